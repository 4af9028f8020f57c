package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/iamlens/iamlens/analyzer/catalog"
)

// helpExample is one command line of a command's Example.
type helpExample struct {
	command  string // the command whose help shows it
	line     string // as written, continuation lines joined
	template bool
	// findings: a comment before it says the example exits 3 ("exit 3"),
	// the command's answer for "denied" or "found".
	findings bool
}

// templateMarkers mark an example as a template to fill in, not to run:
// the placeholder account of the AWS documentation, names to replace, and
// a comment saying so before it.
var templateMarkers = []string{"123456789012", "my-", "ARN", "ACCOUNT", "BUCKET"}

// helpExamples collects the examples of every command under root. Lines
// that start with "iamlens" are examples; a comment that says "template"
// makes the examples after it (in the same Example) templates.
func helpExamples(root *cobra.Command) []helpExample {
	var out []helpExample
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		template, findings := false, false
		var cur strings.Builder
		for _, raw := range strings.Split(c.Example, "\n") {
			l := strings.TrimSpace(raw)
			if cur.Len() > 0 {
				cur.WriteString(" " + strings.TrimSuffix(l, "\\"))
				if !strings.HasSuffix(l, "\\") {
					out = append(out, example(c, cur.String(), template, findings))
					cur.Reset()
				}
				continue
			}
			switch {
			case strings.HasPrefix(l, "#"):
				template = template || strings.Contains(strings.ToLower(l), "template")
				findings = strings.Contains(l, "exit 3")
			case strings.HasPrefix(l, "iamlens "):
				if strings.HasSuffix(l, "\\") {
					cur.WriteString(strings.TrimSuffix(l, "\\"))
					continue
				}
				out = append(out, example(c, l, template, findings))
			case l != "":
				out = append(out, helpExample{command: c.CommandPath(), line: "?" + l}) // not an example: the test fails
			}
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
	return out
}

func example(c *cobra.Command, line string, template, findings bool) helpExample {
	for _, m := range templateMarkers {
		template = template || strings.Contains(line, m)
	}
	return helpExample{command: c.CommandPath(), line: strings.Join(strings.Fields(line), " "), template: template, findings: findings}
}

// shellWords splits a command line as a shell would for these examples:
// words, '…' and "…" quoting, and the redirections > FILE and < FILE; a
// pipe ends the command.
func shellWords(line string) (args []string, stdout, stdin string, err error) {
	var words []string
	var cur strings.Builder
	inWord := false
	for i := 0; i < len(line); i++ {
		ch := line[i]
		switch {
		case ch == '\'' || ch == '"':
			j := strings.IndexByte(line[i+1:], ch)
			if j < 0 {
				return nil, "", "", fmt.Errorf("unclosed quote in %q", line)
			}
			cur.WriteString(line[i+1 : i+1+j])
			i += j + 1
			inWord = true
		case ch == ' ':
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		case ch == '|':
			i = len(line)
		default:
			cur.WriteByte(ch)
			inWord = true
		}
	}
	if inWord {
		words = append(words, cur.String())
	}
	for i := 0; i < len(words); i++ {
		switch words[i] {
		case ">", "<":
			if i+1 == len(words) {
				return nil, "", "", fmt.Errorf("redirection without a file in %q", line)
			}
			if words[i] == ">" {
				stdout = words[i+1]
			} else {
				stdin = words[i+1]
			}
			i++
		default:
			args = append(args, words[i])
		}
	}
	return args, stdout, stdin, nil
}

// TestHelpExamples runs every example of every command's --help, as
// written, from the repository's root against a store ingested from the
// bundled sample (IAMLENS_STORE), and skips, counting them, the templates.
// It walks the command tree, so a new command's examples are covered.
func TestHelpExamples(t *testing.T) {
	st := sampleStore(t)
	t.Setenv("IAMLENS_STORE", st)
	out := t.TempDir()
	t.Chdir(filepath.Join("..", ".."))
	root := newRootCmd(&cmdEnv{Stdout: &bytes.Buffer{}, Stderr: &bytes.Buffer{}, Now: time.Now, LoadCatalog: catalog.Load})
	exs := helpExamples(root)
	ran, templates := 0, 0
	for _, ex := range exs {
		if strings.HasPrefix(ex.line, "?") {
			t.Errorf("%s: a line of the Example is neither an example nor a comment: %q", ex.command, ex.line[1:])
			continue
		}
		if ex.template {
			templates++
			t.Logf("template, not run: %s", ex.line)
			continue
		}
		words, stdoutFile, stdinFile, err := shellWords(ex.line)
		if err != nil {
			t.Error(err)
			continue
		}
		var stdout, stderr bytes.Buffer
		env := &cmdEnv{Stdin: strings.NewReader(""), Stdout: &stdout, Stderr: &stderr, Now: time.Now, LoadCatalog: catalog.Load}
		if stdinFile != "" {
			b, err := os.ReadFile(stdinFile)
			if err != nil {
				t.Errorf("%s: %v", ex.line, err)
				continue
			}
			env.Stdin = bytes.NewReader(b)
		}
		code := runEnv(context.Background(), env, words[1:])
		ok := code == exitOK || (code == exitFindings && (ex.findings || strings.Contains(ex.line, "--fail-on") || strings.Contains(ex.line, "--strict")))
		if !ok || (stdoutFile == "" && stdout.Len() == 0) {
			t.Errorf("%s (from %s --help): exit %d, %d bytes of output\n%s", ex.line, ex.command, code, stdout.Len(), stderr.String())
		}
		if stdoutFile != "" {
			if err := os.WriteFile(filepath.Join(out, filepath.Base(stdoutFile)), stdout.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		ran++
	}
	t.Logf("%d examples ran, %d templates skipped", ran, templates)
	if ran < 20 || templates < 3 {
		t.Errorf("%d examples ran and %d templates were skipped: the examples are not being found", ran, templates)
	}
}

func TestShellWords(t *testing.T) {
	args, out, in, err := shellWords(`iamlens analyze --principal 'ci-*' --format "json" > p.json < in.json | head -3`)
	if err != nil || strings.Join(args, "|") != "iamlens|analyze|--principal|ci-*|--format|json" || out != "p.json" || in != "in.json" {
		t.Errorf("%q %q %q %v", args, out, in, err)
	}
}
