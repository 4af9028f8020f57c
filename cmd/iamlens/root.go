package main

import (
	"fmt"
	"runtime/debug"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/iamlens/iamlens/ingest/store"
)

// globalOptions are the persistent flags every command sees.
type globalOptions struct {
	Store         string
	StoreEndpoint string
	Profile       string
	NoProgress    bool
	// StoreStats prints, on stderr, the requests made of an S3 store
	// (hidden: for bench/scale.sh).
	StoreStats bool
}

func newRootCmd(env *cmdEnv) *cobra.Command {
	g := &globalOptions{}
	root := &cobra.Command{
		Use:   "iamlens",
		Short: "Turn AWS CloudTrail logs into least-privilege IAM",
		Long: `iamlens reads CloudTrail logs (from S3 or a folder) into a local Parquet dataset,
and from it derives the IAM policy each principal really needs, shows how each
event was read, and checks the trail and the account's IAM configuration against
the CIS AWS Foundations Benchmark.

iamlens only reads AWS, except 'iamlens keys apply --yes', which turns access keys
off and deletes them as a reviewed plan says. It never prints secrets.`,
		Version:       versionString(),
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRun: func(cmd *cobra.Command, args []string) {
			// A store on S3 is opened with the global flags.
			cmd.SetContext(withStoreConfig(cmd.Context(), storeConfig{Profile: g.Profile, Endpoint: g.StoreEndpoint}))
			// Old spellings still work, and say the new one (on stderr:
			// stdout may be a report).
			if f := cmd.Flags().Lookup("regions"); f != nil && f.Changed {
				fmt.Fprintln(env.Stderr, "iamlens: --regions is now spelled --region (the old spelling still works)")
			}
		},
		PersistentPostRun: func(cmd *cobra.Command, args []string) {
			if r := storeRequests(cmd.Context()); g.StoreStats && r != nil {
				fmt.Fprintf(env.Stderr, "iamlens: store requests: %d LIST, %d GET, %d PUT, %d DELETE; %d bytes read\n",
					r.Lists, r.Gets, r.Puts, r.Deletes, r.BytesRead)
			}
		},
	}
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return &usageError{err: err, hint: fmt.Sprintf("Run '%s --help' for usage.", c.CommandPath())}
	})
	pf := root.PersistentFlags()
	pf.StringVar(&g.Store, "store", store.DefaultDir(), "the dataset: a folder, or s3://bucket/prefix (env IAMLENS_STORE)")
	pf.StringVar(&g.StoreEndpoint, "store-endpoint-url", "", "S3-compatible endpoint of an s3:// --store, e.g. http://127.0.0.1:9000 (env IAMLENS_STORE_ENDPOINT_URL)")
	pf.StringVar(&g.Profile, "profile", "", "AWS shared-config profile")
	pf.BoolVar(&g.NoProgress, "no-progress", false, "never draw a progress bar")
	pf.BoolVar(&g.StoreStats, "store-stats", false, "print the requests made of an S3 store on stderr")
	_ = pf.MarkHidden("store-stats")

	// One line per command; each lives in its own file as newXCmd → xOptions → runX.
	root.AddCommand(
		newIngestCmd(env, g),
		newCompactCmd(env, g),
		newPrincipalsCmd(env, g),
		newExplainCmd(env, g),
		newCatalogCmd(env, g),
		newAnalyzeCmd(env, g),
		newCISCmd(env, g),
		newCollectCmd(env, g),
		newPolicyCmd(env, g),
		newReviewCmd(env, g),
		newKeysCmd(env, g),
		newDiffCmd(env, g),
		newAthenaCmd(env, g),
		newVersionCmd(env, g),
	)
	return root
}

func versionString() string {
	if version != "" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "dev"
}

// regionFlag adds --region (repeatable) and its old spelling --regions,
// hidden and deprecated, both filling p.
func regionFlag(f *pflag.FlagSet, p *[]string, usage string) {
	f.StringSliceVar(p, "region", nil, usage)
	f.StringSliceVar(p, "regions", nil, usage)
	_ = f.MarkHidden("regions")
}
