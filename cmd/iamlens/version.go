package main

import (
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"
)

func newVersionCmd(env *cmdEnv, _ *globalOptions) *cobra.Command {
	return &cobra.Command{
		Use:     "version",
		Short:   "Print the version of iamlens and how it was built",
		Example: `  iamlens version`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			_, err := fmt.Fprintln(env.Stdout, longVersion())
			return err
		},
	}
}

// longVersion is "iamlens VERSION (GO OS/ARCH[, commit REV[, modified]])".
func longVersion() string {
	s := fmt.Sprintf("iamlens %s (%s %s/%s", versionString(), runtime.Version(), runtime.GOOS, runtime.GOARCH)
	if bi, ok := debug.ReadBuildInfo(); ok {
		var rev, modified string
		for _, kv := range bi.Settings {
			switch kv.Key {
			case "vcs.revision":
				rev = kv.Value
			case "vcs.modified":
				modified = kv.Value
			}
		}
		if len(rev) > 12 {
			rev = rev[:12]
		}
		if rev != "" {
			s += ", commit " + rev
			if modified == "true" {
				s += ", modified"
			}
		}
	}
	return s + ")"
}
