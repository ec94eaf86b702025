package archive

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/oklog/ulid/v2"

	"github.com/mamori-sec/mamori/internal/intake"
)

// s3Env returns the MinIO (or other S3) endpoint and credentials from the
// environment, or skips (fails when MAMORI_REQUIRE_S3 is set) without them.
func s3Env(t *testing.T) (endpoint, access, secret string) {
	t.Helper()
	endpoint = os.Getenv("MAMORI_S3_ENDPOINT")
	if endpoint == "" {
		msg := "MAMORI_S3_ENDPOINT is not set: start a local MinIO with `eval \"$(scripts/minio.sh start)\"` to run the S3 tests"
		if os.Getenv("MAMORI_REQUIRE_S3") != "" {
			t.Fatalf("MAMORI_REQUIRE_S3 is set but %s", msg)
		}
		t.Skip(msg)
	}
	return endpoint, os.Getenv("MAMORI_S3_ACCESS_KEY"), os.Getenv("MAMORI_S3_SECRET_KEY")
}

// s3Bucket creates a bucket for one test and deletes it, with everything
// in it, afterwards. It returns the archive URL for the bucket.
func s3Bucket(t *testing.T) (archiveURL string, opt Option) {
	t.Helper()
	endpoint, access, secret := s3Env(t)
	ctx := context.Background()
	client := s3.New(s3.Options{
		BaseEndpoint: aws.String(endpoint),
		Region:       "us-east-1",
		UsePathStyle: true,
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: access, SecretAccessKey: secret}, nil
		}),
	})
	name := "mamori-test-" + strings.ToLower(ulid.Make().String())
	if _, err := client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(name)}); err != nil {
		t.Fatalf("create bucket %s at %s: %v", name, endpoint, err)
	}
	t.Cleanup(func() {
		p := s3.NewListObjectsV2Paginator(client, &s3.ListObjectsV2Input{Bucket: aws.String(name)})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				t.Errorf("list bucket %s for cleanup: %v", name, err)
				return
			}
			for _, o := range page.Contents {
				if _, err := client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(name), Key: o.Key}); err != nil {
					t.Errorf("cleanup: %v", err)
				}
			}
		}
		if _, err := client.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String(name)}); err != nil {
			t.Errorf("delete bucket %s: %v", name, err)
		}
	})
	q := url.Values{"endpoint": {endpoint}, "region": {"us-east-1"}, "use_path_style": {"true"}}
	return "s3://" + name + "?" + q.Encode(), WithS3Credentials(access, secret)
}

func openS3Test(t *testing.T) *Archive {
	t.Helper()
	u, cred := s3Bucket(t)
	a, err := Open(context.Background(), u, cred)
	if err != nil {
		t.Fatalf("Open(%s): %v", u, err)
	}
	t.Cleanup(func() {
		if err := a.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return a
}

func TestS3RoundTrip(t *testing.T) {
	a := openS3Test(t)
	ctx := context.Background()
	base := time.Date(2025, 3, 9, 23, 30, 0, 0, time.UTC)
	batch := intake.Batch{Dataset: "cef.deep_security", Listener: "syslog-tcp", Records: trickyRecords(base)}
	obj, err := a.Put(ctx, batch)
	if err != nil {
		t.Fatalf("Put: %v", err)
	}
	if !keyPattern.MatchString(obj.Key) || !strings.HasPrefix(obj.Key, "raw/cef.deep_security/2025/03/09/23/") {
		t.Errorf("key %s does not follow the layout", obj.Key)
	}
	checkRoundTrip(t, a, batch, obj)

	attrs, err := a.bucket.Attributes(ctx, obj.Key)
	if err != nil {
		t.Fatalf("Attributes: %v", err)
	}
	if attrs.ContentType != ContentType || attrs.Size != obj.Bytes {
		t.Errorf("object content type %q size %d, want %q and %d", attrs.ContentType, attrs.Size, ContentType, obj.Bytes)
	}
	wantMeta := map[string]string{
		"mamori-dataset":   "cef.deep_security",
		"mamori-listener":  "syslog-tcp",
		"mamori-records":   fmt.Sprint(len(batch.Records)),
		"mamori-raw-bytes": fmt.Sprint(obj.RawBytes),
		"mamori-format":    "envelope-ndjson-v1",
	}
	for k, v := range wantMeta {
		if attrs.Metadata[k] != v {
			t.Errorf("metadata %s = %q, want %q (all: %v)", k, attrs.Metadata[k], v, attrs.Metadata)
		}
	}

	var more []string
	for i := range 3 {
		o, err := a.Put(ctx, intake.Batch{Dataset: "cef.deep_security", Records: []intake.Record{{Data: fmt.Appendf(nil, "r%d", i), Received: base}}})
		if err != nil {
			t.Fatal(err)
		}
		more = append(more, o.Key)
	}
	var listed []string
	err = a.List(ctx, "raw/cef.deep_security/", func(o ObjectInfo) error {
		listed = append(listed, o.Key)
		return nil
	})
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	want := append([]string{obj.Key}, more...)
	if !slices.Equal(listed, want) {
		t.Errorf("List = %q, want %q (ULIDs sorting in write order)", listed, want)
	}
	if err := a.Delete(ctx, obj.Key); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if _, err := a.OpenRecords(ctx, obj.Key); !errors.Is(err, ErrNotFound) {
		t.Errorf("OpenRecords after Delete: %v, want ErrNotFound", err)
	}
}

func TestS3ExternalObjects(t *testing.T) {
	a := openS3Test(t)
	ctx := context.Background()
	objects := map[string][]byte{
		"AWSLogs/1/CloudTrail/us-east-1/2025/01/01/x.json.gz": gzipBytes(t, `{"Records":[]}`),
		"fluentd/app.gz":    gzipBytes(t, "a\r\n\r\nb"),
		"exports/x.zst":     zstdBytes(t, "z1\nz2\n"),
		"drops/plain.log":   []byte("p1\n\np3"),
		"drops/misnamed.gz": []byte("plain after all\n"),
	}
	want := map[string][]line{
		"AWSLogs/1/CloudTrail/us-east-1/2025/01/01/x.json.gz": {{0, `{"Records":[]}`}},
		"fluentd/app.gz":    {{0, "a"}, {2, "b"}},
		"exports/x.zst":     {{0, "z1"}, {1, "z2"}},
		"drops/plain.log":   {{0, "p1"}, {2, "p3"}},
		"drops/misnamed.gz": {{0, "plain after all"}},
	}
	for k, body := range objects {
		if err := a.bucket.WriteAll(ctx, k, body, nil); err != nil {
			t.Fatalf("write %s: %v", k, err)
		}
	}
	for k := range objects {
		info, err := a.Stat(ctx, k)
		if err != nil {
			t.Fatalf("Stat %s: %v", k, err)
		}
		idx, recs, _ := readAll(t, a, k)
		var got []line
		for i, r := range recs {
			got = append(got, line{idx[i], string(r.Data)})
			if !r.Received.Equal(info.ModTime) || r.Peer != "" {
				t.Errorf("%s record %d: received %v peer %q, want the object's LastModified %v and no peer", k, i, r.Received, r.Peer, info.ModTime)
			}
		}
		if !slices.Equal(got, want[k]) {
			t.Errorf("%s: records %+v, want %+v", k, got, want[k])
		}
	}
}

func TestS3Retention(t *testing.T) {
	a := openS3Test(t)
	testDeleteBefore(t, a, func(key string) error {
		return a.bucket.WriteAll(context.Background(), key, []byte("not mamori's\n"), nil)
	})
}

func TestS3PrefixedURL(t *testing.T) {
	u, cred := s3Bucket(t)
	pu, err := url.Parse(u)
	if err != nil {
		t.Fatal(err)
	}
	pu.Path = "/tenant-a"
	ctx := context.Background()
	a, err := Open(ctx, pu.String(), cred)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer a.Close()
	obj, err := a.Put(ctx, intake.Batch{Dataset: "syslog", Records: []intake.Record{{Data: []byte("x")}}})
	if err != nil {
		t.Fatal(err)
	}
	// The whole bucket, seen without the prefix, has it under tenant-a/.
	root, err := Open(ctx, u, cred)
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	if _, err := root.Stat(ctx, "tenant-a/"+obj.Key); err != nil {
		t.Errorf("object not under the URL's prefix: %v", err)
	}
}

func TestS3OpenFailsEarly(t *testing.T) {
	endpoint, access, secret := s3Env(t)
	q := url.Values{"endpoint": {endpoint}, "region": {"us-east-1"}, "use_path_style": {"true"}}
	ctx := context.Background()
	missing := "s3://mamori-no-such-bucket-" + strings.ToLower(ulid.Make().String()[:10]) + "?" + q.Encode()
	if a, err := Open(ctx, missing, WithS3Credentials(access, secret)); err == nil {
		a.Close()
		t.Errorf("Open of a missing bucket succeeded")
	}
	u, _ := s3Bucket(t)
	if a, err := Open(ctx, u, WithS3Credentials(access, secret+"-wrong")); err == nil {
		a.Close()
		t.Errorf("Open with a wrong secret key succeeded")
	}
}
