package main

import (
	"fmt"
	"strings"

	"github.com/iamlens/iamlens/analyzer"
)

// plural counts n of a noun: "1 file", "3 files", "2 policies".
func plural(n int, noun string) string {
	if n == 1 {
		return fmt.Sprintf("1 %s", noun)
	}
	switch {
	case strings.HasSuffix(noun, "y") && !strings.HasSuffix(noun, "ey"):
		noun = noun[:len(noun)-1] + "ies"
	case strings.HasSuffix(noun, "s") || strings.HasSuffix(noun, "x") || strings.HasSuffix(noun, "ch") || strings.HasSuffix(noun, "sh"):
		noun += "es"
	default:
		noun += "s"
	}
	return fmt.Sprintf("%d %s", n, noun)
}

// wasWere agrees with a count.
func wasWere(n int) string {
	if n == 1 {
		return "was"
	}
	return "were"
}

// notFoundUsage turns a principal that matched nobody into a usage error
// (exit 2) saying msg, whose hint names the principals that come close
// (or, when none does, says fallback).
func notFoundUsage(nf *analyzer.NotFoundError, msg, fallback string) error {
	hint := fallback
	if len(nf.Close) > 0 {
		hint = "Did you mean:\n  " + strings.Join(nf.Close, "\n  ")
	}
	return usageErrorf(hint, "%s", msg)
}
