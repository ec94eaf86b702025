package e2e

import (
	"bytes"
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// TestS3VendorLayoutsIngestOnce points mamori's archive at a MinIO bucket
// (started by scripts/test.sh, or by hand with scripts/minio.sh) where
// CloudTrail and VPC flow logs were delivered in AWS's own layouts, with a
// source prefix that names no dataset: each object is recognised by its
// key and ingested once, across a restart.
func TestS3VendorLayoutsIngestOnce(t *testing.T) {
	endpoint := os.Getenv("MAMORI_S3_ENDPOINT")
	if endpoint == "" {
		msg := "MAMORI_S3_ENDPOINT is not set: start MinIO with `eval \"$(scripts/minio.sh start)\"` to run the S3 tests"
		if os.Getenv("MAMORI_REQUIRE_S3") != "" {
			t.Fatalf("MAMORI_REQUIRE_S3 is set but %s", msg)
		}
		t.Skip(msg)
	}
	access, secret := os.Getenv("MAMORI_S3_ACCESS_KEY"), os.Getenv("MAMORI_S3_SECRET_KEY")
	ctx := context.Background()
	client := s3.New(s3.Options{
		BaseEndpoint: aws.String(endpoint), Region: "us-east-1", UsePathStyle: true,
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: access, SecretAccessKey: secret}, nil
		}),
	})
	bucket := fmt.Sprintf("mamori-e2e-%d", time.Now().UnixNano())
	if _, err := client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		t.Fatalf("create bucket: %v", err)
	}
	t.Cleanup(func() {
		p := s3.NewListObjectsV2Paginator(client, &s3.ListObjectsV2Input{Bucket: aws.String(bucket)})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				return
			}
			for _, o := range page.Contents {
				client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(bucket), Key: o.Key})
			}
		}
		client.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String(bucket)})
	})
	for key, data := range vendorObjects() {
		if _, err := client.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: bytes.NewReader(data)}); err != nil {
			t.Fatalf("put %s: %v", key, err)
		}
	}
	// The server reads its S3 credentials the AWS way, from the environment.
	t.Setenv("AWS_ACCESS_KEY_ID", access)
	t.Setenv("AWS_SECRET_ACCESS_KEY", secret)
	q := url.Values{"endpoint": {endpoint}, "region": {"us-east-1"}, "use_path_style": {"true"}}
	cfg := filepath.Join(t.TempDir(), "mamori.yaml")
	conf := strings.Join([]string{
		"archive:",
		"  url: \"s3://" + bucket + "?" + q.Encode() + "\"",
		"sources:",
		"  - prefix: AWSLogs/",
	}, "\n") + "\n"
	if err := os.WriteFile(cfg, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	want := map[string]int64{"event.dataset:aws.cloudtrail": 2, "event.dataset:aws.vpcflow": 2}
	dataDir := t.TempDir()
	s := startServer(t, dataDir, "--config", cfg)
	checkVendorObjects(t, s, "first run", want)
	s.stop()
	s = startServer(t, dataDir, "--config", cfg)
	checkVendorObjects(t, s, "after a restart", want)
	time.Sleep(time.Second)
	checkVendorObjects(t, s, "a second later", want)
}
