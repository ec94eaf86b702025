package archive

import (
	"context"
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	gcaws "gocloud.dev/aws"
	"gocloud.dev/blob"
	"gocloud.dev/blob/s3blob"
)

// openS3 opens s3://bucket[/prefix]?... by building the S3 client itself
// (so that credentials can come from options) and handing it to s3blob's
// constructor: no URL registry is involved.
func openS3(ctx context.Context, u *url.URL, o *options) (*blob.Bucket, error) {
	if u.Host == "" {
		return nil, fmt.Errorf("s3 url has no bucket: want s3://bucket")
	}
	q := u.Query()
	var clientOpts []func(*s3.Options)
	for _, name := range []string{"use_path_style", "s3ForcePathStyle"} {
		if v := q.Get(name); v != "" {
			q.Del(name)
			on, err := strconv.ParseBool(v)
			if err != nil {
				return nil, fmt.Errorf("s3 url: %s: %w", name, err)
			}
			clientOpts = append(clientOpts, func(so *s3.Options) { so.UsePathStyle = on })
		}
	}
	if v := q.Get("disable_https"); v != "" {
		q.Del("disable_https")
		off, err := strconv.ParseBool(v)
		if err != nil {
			return nil, fmt.Errorf("s3 url: disable_https: %w", err)
		}
		clientOpts = append(clientOpts, func(so *s3.Options) { so.EndpointOptions.DisableHTTPS = off })
	}
	// region, endpoint, profile, anonymous, checksum settings, ...
	cfg, err := gcaws.V2ConfigFromURLParams(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("s3 config: %w", err)
	}
	if o.accessKey != "" || o.secretKey != "" {
		creds := aws.Credentials{AccessKeyID: o.accessKey, SecretAccessKey: o.secretKey, Source: "mamori archive options"}
		cfg.Credentials = aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return creds, nil
		})
	}
	client := s3.NewFromConfig(cfg, clientOpts...)
	b, err := s3blob.OpenBucket(ctx, client, u.Host, &s3blob.Options{
		// The transfer manager does not take this from the client.
		RequestChecksumCalculation: cfg.RequestChecksumCalculation,
	})
	if err != nil {
		return nil, fmt.Errorf("open bucket %s: %w", u.Host, err)
	}
	if prefix := strings.Trim(u.Path, "/"); prefix != "" {
		b = blob.PrefixedBucket(b, prefix+"/")
	}
	// Fail now, not on the first Put, when the bucket is missing or the
	// credentials are wrong.
	ok, err := b.IsAccessible(ctx)
	if err == nil && !ok {
		err = fmt.Errorf("bucket %s does not exist or is not accessible", u.Host)
	}
	if err != nil {
		_ = b.Close()
		return nil, fmt.Errorf("check bucket %s: %w", u.Host, err)
	}
	return b, nil
}
