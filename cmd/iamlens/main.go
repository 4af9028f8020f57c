// Command iamlens turns AWS CloudTrail logs into least-privilege IAM.
//
// main is the only place that knows cobra, flags, stdout and exit codes:
// every command fills an options struct and calls a run function that
// returns a value or an error; run maps errors to exit codes in one switch.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
	"time"

	"golang.org/x/term"

	"github.com/iamlens/iamlens/analyzer/catalog"
)

// Exit codes, documented in the README.
const (
	exitOK          = 0
	exitError       = 1
	exitUsage       = 2
	exitFindings    = 3 // checks failed (cis --fail-on, policy diff, strict ingest)
	exitInterrupted = 130
)

// version is set with -ldflags "-X main.version=…"; see versionString.
var version = ""

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// cmdEnv is what commands may know of the process: where to read and
// write, the clock, whether stderr is a terminal (for progress bars), and
// how to load the IAM catalogue.
type cmdEnv struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	Now            func() time.Time
	Interactive    bool
	// Width is stdout's width when it is a terminal, else 0 (no limit).
	Width int
	// LoadCatalog loads the IAM catalogue (catalog.Load; tests make it fail).
	LoadCatalog func() (*catalog.Catalog, error)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	env := &cmdEnv{Stdin: os.Stdin, Stdout: stdout, Stderr: stderr, Now: time.Now, Interactive: isTerminal(stderr), Width: terminalWidth(stdout), LoadCatalog: catalog.Load}
	return runEnv(ctx, env, args)
}

// runEnv runs iamlens with args in env and returns the exit code.
func runEnv(ctx context.Context, env *cmdEnv, args []string) int {
	root := newRootCmd(env)
	root.SetArgs(args)
	root.SetIn(env.Stdin)
	root.SetOut(env.Stdout)
	root.SetErr(env.Stderr)
	err := root.ExecuteContext(ctx)
	return exitCode(err, ctx, env.Stderr)
}

// exitCode is the single place where errors become exit codes.
func exitCode(err error, ctx context.Context, stderr io.Writer) int {
	if err == nil {
		return exitOK
	}
	var ue *usageError
	var fe *findingsError
	var he *hintError
	switch {
	case errors.As(err, &fe):
		if fe.msg != "" {
			fmt.Fprintln(stderr, fe.msg)
		}
		return exitFindings
	case ctx.Err() != nil || errors.Is(err, context.Canceled):
		fmt.Fprintln(stderr, "interrupted: the next run resumes where this one stopped")
		return exitInterrupted
	case errors.As(err, &ue):
		fmt.Fprintln(stderr, "iamlens:", ue.Error())
		if ue.hint != "" {
			fmt.Fprintln(stderr, ue.hint)
		}
		return exitUsage
	case errors.As(err, &he):
		fmt.Fprintln(stderr, "iamlens:", he.Error())
		fmt.Fprintln(stderr, he.hint)
		return exitError
	default:
		fmt.Fprintln(stderr, "iamlens:", err)
		return exitError
	}
}

// usageError is a mistake in the command line (exit 2).
type usageError struct {
	err  error
	hint string
}

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }

func usageErrorf(hint, format string, args ...any) error {
	return &usageError{err: fmt.Errorf(format, args...), hint: hint}
}

// findingsError means the command worked and found what the user asked it to
// fail on (exit 3): failing CIS controls, a strict ingest with bad input.
type findingsError struct{ msg string }

func (e *findingsError) Error() string { return e.msg }

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// terminalWidth is w's width in columns when it is a terminal, else 0.
func terminalWidth(w io.Writer) int {
	f, ok := w.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return 0
	}
	width, _, err := term.GetSize(int(f.Fd()))
	if err != nil {
		return 0
	}
	return width
}

// lightGC lets a command whose memory stays small (one principal's rows,
// the list of principals) grow its heap to five times what is live before
// it collects, instead of Go's twice: such commands allocate short-lived
// rows by the hundred thousand, and spend a fifth less CPU collecting them
// for about 100 MB more (docs/performance.md). Commands whose memory grows
// with the dataset (ingest, analyze --all, diff, review) keep Go's default;
// GOGC set by the user wins.
func lightGC() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(400)
	}
}
