package main

import (
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/iamlens/iamlens/ingest/cloudtrail"
)

func TestPlural(t *testing.T) {
	for _, tt := range []struct {
		n          int
		noun, want string
	}{
		{1, "file", "1 file"}, {0, "file", "0 files"}, {2, "batch", "2 batches"}, {3, "policy", "3 policies"},
		{2, "S3 retry", "2 S3 retries"}, {2, "key", "2 keys"}, {1, "batch", "1 batch"}, {4, "trail bucket", "4 trail buckets"},
	} {
		if got := plural(tt.n, tt.noun); got != tt.want {
			t.Errorf("plural(%d, %q) = %q, want %q", tt.n, tt.noun, got, tt.want)
		}
	}
}

// TestVersion: iamlens version and --version say the same version.
func TestVersion(t *testing.T) {
	code, out, _ := runCLI(t, "version")
	if code != 0 || !strings.HasPrefix(out, "iamlens "+versionString()+" (go") || strings.Contains(out, "(devel)") {
		t.Errorf("version: exit %d, %q", code, out)
	}
	code, out2, _ := runCLI(t, "--version")
	if code != 0 || !strings.Contains(out2, versionString()) {
		t.Errorf("--version: exit %d, %q", code, out2)
	}
}

// TestCompletion: the shell completes --format and --kind with their
// values, and --principal and --account from the store.
func TestCompletion(t *testing.T) {
	st := sampleStore(t)
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"analyze", "--format", ""}, analyzeFormats},
		{[]string{"principals", "--kind", ""}, cloudtrail.Kinds},
		{[]string{"cis", "--format", ""}, []string{"table", "json", "markdown", "sarif", "asff", "notify", "slack"}},
		{[]string{"analyze", "--store", st, "--principal", "ben"}, []string{"benjamin"}},
		{[]string{"explain", "--store", st, "--principal", "arn:aws:iam::123837392027:user/be"},
			[]string{"arn:aws:iam::123837392027:user/benjamin", "arn:aws:iam::123837392027:user/bert-jan"}},
		{[]string{"principals", "--store", st, "--account", ""}, []string{"123837392027"}},
	} {
		code, out, _ := runCLI(t, append([]string{cobra.ShellCompRequestCmd}, tc.args...)...)
		lines := strings.Split(strings.TrimSpace(out), "\n")
		if code != 0 || len(lines) == 0 || !strings.HasPrefix(lines[len(lines)-1], ":") {
			t.Errorf("%v: exit %d, %q", tc.args, code, out)
			continue
		}
		if got := lines[:len(lines)-1]; strings.Join(got, ",") != strings.Join(tc.want, ",") {
			t.Errorf("%v: %q, want %q", tc.args, got, tc.want)
		}
	}
}
