package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/iamlens/iamlens/ingest/source"
	"github.com/iamlens/iamlens/ingest/store"
	"github.com/iamlens/iamlens/ingest/store/s3store"
)

// storeConfig is how to reach a store given as s3://bucket/prefix: the
// global flags, carried on the command's context (every command opens the
// store through openStore).
type storeConfig struct {
	Profile    string
	Endpoint   string
	Region     string
	MaxRetries int
	// opened remembers the S3 backends opened, for their request counts.
	opened *[]*s3store.Backend
}

type storeConfigKey struct{}

func withStoreConfig(ctx context.Context, c storeConfig) context.Context {
	if c.opened == nil {
		c.opened = new([]*s3store.Backend)
	}
	return context.WithValue(ctx, storeConfigKey{}, c)
}

func storeConfigOf(ctx context.Context) storeConfig {
	c, _ := ctx.Value(storeConfigKey{}).(storeConfig)
	if c.MaxRetries == 0 {
		c.MaxRetries = ingestDefaults().MaxRetries
	}
	if c.Endpoint == "" {
		c.Endpoint = os.Getenv("IAMLENS_STORE_ENDPOINT_URL")
	}
	return c
}

// isRemoteStore reports whether --store names an object store.
func isRemoteStore(root string) bool { return strings.HasPrefix(root, "s3://") }

// openStore opens the dataset --store names: a folder (created when write
// is set) or s3://bucket/prefix (an empty prefix is an empty store).
func openStore(ctx context.Context, root string, write bool) (*store.Store, error) {
	if !isRemoteStore(root) {
		if write {
			return store.Open(root)
		}
		return store.OpenExisting(root)
	}
	b, err := openStoreBackend(ctx, root)
	if err != nil {
		return nil, err
	}
	st, err := store.OpenRemote(ctx, b)
	if err != nil {
		return nil, storeS3Error(ctx, err, root)
	}
	return st, nil
}

// openStoreBackend builds the S3 backend of a store URI.
func openStoreBackend(ctx context.Context, root string) (*s3store.Backend, error) {
	bucket, prefix, err := source.ParseS3URL(root)
	if err != nil {
		return nil, usageErrorf("", "--store: %v", err)
	}
	c := storeConfigOf(ctx)
	client, err := newS3Client(ctx, c.Profile, c.Region, c.Endpoint, c.MaxRetries)
	if err != nil {
		return nil, err
	}
	b := s3store.New(client, bucket, prefix)
	if c.opened != nil {
		*c.opened = append(*c.opened, b)
	}
	return b, nil
}

// storeRequests sums the requests of the S3 stores the command opened.
func storeRequests(ctx context.Context) *s3store.Stats {
	c := storeConfigOf(ctx)
	if c.opened == nil || len(*c.opened) == 0 {
		return nil
	}
	var sum s3store.Stats
	for _, b := range *c.opened {
		s := b.Stats()
		sum.Lists += s.Lists
		sum.Gets += s.Gets
		sum.Puts += s.Puts
		sum.Deletes += s.Deletes
		sum.BytesRead += s.BytesRead
		sum.BytesWritten += s.BytesWritten
	}
	return &sum
}

// storeS3Error says what went wrong reaching an S3 store, as s3Error does
// for a source.
func storeS3Error(ctx context.Context, err error, root string) error {
	c := storeConfigOf(ctx)
	return s3Error(err, root, &ingestOptions{EndpointURL: c.Endpoint})
}

// openStoreForRead opens an existing store that holds committed events;
// otherwise it returns store.ErrEmpty (wrapped) without creating anything.
// A store path that is a file is a usage error.
func openStoreForRead(ctx context.Context, root string) (*store.Store, error) {
	st, err := openStore(ctx, root, false)
	if err != nil {
		if errors.Is(err, store.ErrEmpty) {
			return nil, err
		}
		if isRemoteStore(root) {
			return nil, err
		}
		return nil, usageErrorf("", "%v", err)
	}
	files, err := st.Files(nil, time.Time{}, time.Time{})
	if err != nil {
		if isRemoteStore(root) {
			return nil, storeS3Error(ctx, err, root)
		}
		return nil, err
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("%s: %w", root, store.ErrEmpty)
	}
	return st, nil
}
