package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/athena"
	"github.com/aws/smithy-go"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/iamlens/iamlens/analyzer"
	athenaengine "github.com/iamlens/iamlens/analyzer/athena"
	"github.com/iamlens/iamlens/ingest/columns"
	"github.com/iamlens/iamlens/ingest/store"
)

// Engines of --engine.
const (
	engineLocal  = "local"
	engineAthena = "athena"
)

// engineOptions are the flags that choose where the whole-dataset
// aggregation runs: here, over the store's files, or in Athena over the
// usage rollup's table (`iamlens athena ddl`).
type engineOptions struct {
	Engine    string
	Workgroup string
	Output    string
	Database  string
}

func engineFlags(f *pflag.FlagSet, o *engineOptions) {
	f.StringVar(&o.Engine, "engine", engineLocal, "where the aggregation runs: local, or athena (SQL over the rollup's table; --store s3://…)")
	f.StringVar(&o.Workgroup, "athena-workgroup", "primary", "with --engine athena: the workgroup")
	f.StringVar(&o.Output, "athena-output", "", "with --engine athena: s3:// location of the query results (default: the workgroup's)")
	f.StringVar(&o.Database, "athena-database", athenaengine.DefaultDatabase, "with --engine athena: the database of `iamlens athena ddl`'s tables")
}

// validate checks the flags before anything is read.
func (o *engineOptions) validate(storeRoot string) error {
	switch o.Engine {
	case engineLocal, "":
		return nil
	case engineAthena:
	default:
		return usageErrorf("", "--engine must be local or athena, not %q", o.Engine)
	}
	if !isRemoteStore(storeRoot) {
		return usageErrorf("Athena reads the dataset on S3: ingest with --store s3://bucket/prefix, create its tables with 'iamlens athena ddl'.",
			"--engine athena needs --store s3://bucket/prefix, not %q", storeRoot)
	}
	if o.Output != "" && !strings.HasPrefix(o.Output, "s3://") {
		return usageErrorf("", "--athena-output must be an s3:// location, not %q", o.Output)
	}
	if o.Workgroup == "" || o.Database == "" {
		return usageErrorf("", "--athena-workgroup and --athena-database must not be empty")
	}
	return nil
}

// reader returns the engine's rollup reader: nil for the local engine.
// The Athena client takes the SDK's default configuration (--profile);
// $IAMLENS_ATHENA_ENDPOINT_URL, when set, is its endpoint (a VPC endpoint,
// or a test server).
func (o *engineOptions) reader(ctx context.Context, storeRoot string, st *store.Store, stderr io.Writer) (analyzer.RollupReader, error) {
	if err := o.validate(storeRoot); err != nil || o.Engine != engineAthena {
		return nil, err
	}
	accounts, err := analyzer.Accounts(st)
	if err != nil {
		return nil, err
	}
	cfg, err := awsConfig(ctx, storeConfigOf(ctx).Profile)
	if err != nil {
		return nil, err
	}
	if cfg.Region == "" {
		return nil, usageErrorf("Set AWS_REGION, or give --profile a profile with a region: the workgroup's.", "--engine athena needs an AWS region")
	}
	client := athena.NewFromConfig(cfg, func(ao *athena.Options) {
		if ep := os.Getenv("IAMLENS_ATHENA_ENDPOINT_URL"); ep != "" {
			ao.BaseEndpoint = &ep
		}
	})
	e := athenaengine.New(client, athenaengine.Options{Workgroup: o.Workgroup, Output: o.Output, Database: o.Database, Accounts: accounts,
		Queries: func(id string, n int64) {
			fmt.Fprintf(stderr, "iamlens: athena query %s scanned %d bytes\n", id, n)
		}})
	return &athenaReader{Engine: e, store: storeRoot, o: o}, nil
}

// athenaReader says what to do about the errors people meet first.
type athenaReader struct {
	*athenaengine.Engine
	store string
	o     *engineOptions
}

func (r *athenaReader) ReadRollup(ctx context.Context, q analyzer.RollupQuery, facets []string, fn func([]columns.RollupRow) error) error {
	err := r.Engine.ReadRollup(ctx, q, facets, fn)
	var qe *athenaengine.QueryError
	var ae smithy.APIError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &qe) && (strings.Contains(qe.Reason, "NOT_FOUND") || strings.Contains(qe.Reason, "does not exist")):
		return &hintError{err: err, hint: fmt.Sprintf("Create the tables first: iamlens athena ddl --store %s --athena-database %s, and run its statements in Athena.", r.store, r.o.Database)}
	case errors.As(err, &ae) && (ae.ErrorCode() == "AccessDeniedException" || ae.ErrorCode() == "UnrecognizedClientException"):
		return &hintError{err: err, hint: "The caller needs athena:StartQueryExecution, GetQueryExecution, GetQueryResults on the workgroup, glue:GetTable on the database, s3:GetObject and s3:ListBucket on the store, and write access to the results location (docs/scale.md)."}
	case errors.As(err, &ae) && ae.ErrorCode() == "InvalidRequestException":
		return &hintError{err: err, hint: fmt.Sprintf("Check --athena-workgroup (%s) and --athena-output: the workgroup must exist and have a result location if --athena-output is not given.", r.o.Workgroup)}
	}
	return err
}

func newAthenaCmd(env *cmdEnv, g *globalOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "athena",
		Short: "Query the dataset on S3 with Amazon Athena",
		Long: `The dataset on S3 (--store s3://bucket/prefix) is Hive-partitioned Parquet that
Athena reads as it is. 'iamlens athena ddl' prints the tables' DDL; then
--engine athena makes principals, analyze and diff run their aggregation in
Athena, over the usage rollup (docs/scale.md).`,
	}
	cmd.AddCommand(newAthenaDDLCmd(env, g))
	return cmd
}

type athenaDDLOptions struct {
	Store    string
	Database string
	Stdout   io.Writer
}

func newAthenaDDLCmd(env *cmdEnv, g *globalOptions) *cobra.Command {
	o := &athenaDDLOptions{}
	cmd := &cobra.Command{
		Use:   "ddl",
		Short: "Print the CREATE EXTERNAL TABLE statements of the events and the rollup",
		Long: `Print the Athena DDL of the dataset under --store s3://bucket/prefix: a database,
the events table and the usage rollup's table, Parquet with Hive partitions
account=…/date=… and partition projection (no partition to add or repair):
dates as a range from the store's first day to NOW, accounts enumerated (up to
1,000) or injected (more; every query must then name its accounts). Run the
statements in the Athena console or with 'aws athena start-query-execution'.`,
		Example: `  iamlens athena ddl --store s3://my-bucket/iamlens > tables.sql
  iamlens athena ddl --store s3://my-bucket/iamlens --athena-database audit`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Store, o.Stdout = g.Store, env.Stdout
			return runAthenaDDL(cmd.Context(), o)
		},
	}
	cmd.Flags().StringVar(&o.Database, "athena-database", athenaengine.DefaultDatabase, "the database of the tables")
	return cmd
}

func runAthenaDDL(ctx context.Context, o *athenaDDLOptions) error {
	if !isRemoteStore(o.Store) {
		return usageErrorf("Athena reads S3: ingest into --store s3://bucket/prefix.", "athena ddl needs --store s3://bucket/prefix, not %q", o.Store)
	}
	st, err := openStoreForRead(ctx, o.Store)
	if err != nil {
		return err
	}
	accounts, err := analyzer.Accounts(st)
	if err != nil {
		return err
	}
	first, err := analyzer.FirstDay(st, nil)
	if err != nil {
		return err
	}
	if err := athenaengine.WriteDDL(o.Stdout, athenaengine.DDLOptions{Location: o.Store, Database: o.Database, Accounts: accounts, FirstDay: first}); err != nil {
		return usageErrorf("", "%v", err)
	}
	return nil
}
