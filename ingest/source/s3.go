package source

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// S3API is the part of the S3 client this package uses; *s3.Client
// satisfies it, and tests pass func-typed fakes.
type S3API interface {
	ListObjectsV2(ctx context.Context, in *s3.ListObjectsV2Input, optFns ...func(*s3.Options)) (*s3.ListObjectsV2Output, error)
	GetObject(ctx context.Context, in *s3.GetObjectInput, optFns ...func(*s3.Options)) (*s3.GetObjectOutput, error)
}

// S3 reads log files from a bucket.
type S3 struct {
	client S3API
	bucket string
	prefix string // "" or ending in "/"
	// Skipped records folders passed over by name during the last Walk.
	Skipped Skipped
}

// ParseS3URL splits s3://bucket/prefix.
func ParseS3URL(u string) (bucket, prefix string, err error) {
	rest, ok := strings.CutPrefix(u, "s3://")
	if !ok {
		return "", "", fmt.Errorf("not an s3:// URL: %q", u)
	}
	bucket, prefix, _ = strings.Cut(rest, "/")
	if bucket == "" {
		return "", "", fmt.Errorf("no bucket in %q", u)
	}
	if prefix != "" && !strings.HasSuffix(prefix, "/") {
		prefix += "/"
	}
	return bucket, prefix, nil
}

// NewS3 returns a source over s3://bucket/prefix using client.
func NewS3(client S3API, bucket, prefix string) *S3 {
	if prefix != "" && !strings.HasSuffix(prefix, "/") {
		prefix += "/"
	}
	return &S3{client: client, bucket: bucket, prefix: prefix}
}

// String names the source.
func (s *S3) String() string { return "s3://" + s.bucket + "/" + s.prefix }

// URI names one object.
func (s *S3) URI(key string) string { return "s3://" + s.bucket + "/" + key }

// Walk lists the objects the filter selects, page by page (1,000 keys each).
func (s *S3) Walk(ctx context.Context, f Filter, fn func(Object) error) error {
	s.Skipped = Skipped{}
	return discover(ctx, s3Lister{s}, s.prefix, f, &s.Skipped, fn)
}

// Open streams one object. A missing object returns an error whose
// NotFound method reports true.
func (s *S3) Open(ctx context.Context, key string) (io.ReadCloser, error) {
	out, err := s.client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(s.bucket), Key: aws.String(key)})
	if err != nil {
		var nsk *types.NoSuchKey
		if errors.As(err, &nsk) {
			return nil, &notFoundError{key: key, err: err}
		}
		return nil, fmt.Errorf("s3 get %s: %w", key, err)
	}
	return out.Body, nil
}

type notFoundError struct {
	key string
	err error
}

func (e *notFoundError) Error() string  { return "s3 get " + e.key + ": no such key" }
func (e *notFoundError) Unwrap() error  { return e.err }
func (e *notFoundError) NotFound() bool { return true }

type s3Lister struct{ s *S3 }

func (l s3Lister) dirs(ctx context.Context, prefix string) ([]string, []Object, error) {
	var out []string
	var files []Object
	p := s3.NewListObjectsV2Paginator(l.s.client, &s3.ListObjectsV2Input{
		Bucket: aws.String(l.s.bucket), Prefix: aws.String(prefix), Delimiter: aws.String("/"),
	})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, nil, fmt.Errorf("s3 list s3://%s/%s: %w", l.s.bucket, prefix, err)
		}
		for _, cp := range page.CommonPrefixes {
			out = append(out, aws.ToString(cp.Prefix))
		}
		for _, o := range page.Contents {
			if key := aws.ToString(o.Key); !strings.HasSuffix(key, "/") {
				files = append(files, Object{Key: key, Size: aws.ToInt64(o.Size), ETag: strings.Trim(aws.ToString(o.ETag), `"`)})
			}
		}
	}
	return out, files, nil
}

func (l s3Lister) objects(ctx context.Context, prefix, startAfter string, fn func(Object) error) error {
	in := &s3.ListObjectsV2Input{Bucket: aws.String(l.s.bucket), Prefix: aws.String(prefix)}
	if startAfter != "" {
		in.StartAfter = aws.String(startAfter)
	}
	p := s3.NewListObjectsV2Paginator(l.s.client, in)
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("s3 list s3://%s/%s: %w", l.s.bucket, prefix, err)
		}
		for _, o := range page.Contents {
			key := aws.ToString(o.Key)
			if strings.HasSuffix(key, "/") {
				continue // folder placeholder
			}
			if err := fn(Object{Key: key, Size: aws.ToInt64(o.Size), ETag: strings.Trim(aws.ToString(o.ETag), `"`)}); err != nil {
				return err
			}
		}
	}
	return nil
}
