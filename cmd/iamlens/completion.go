package main

import (
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/iamlens/iamlens/analyzer"
	"github.com/iamlens/iamlens/ingest/store"
)

// completeValues makes the shell complete flag with a fixed list.
func completeValues(cmd *cobra.Command, flag string, values ...string) {
	_ = cmd.RegisterFlagCompletionFunc(flag, cobra.FixedCompletions(values, cobra.ShellCompDirectiveNoFileComp))
}

// completePrincipals makes the shell complete --principal with the
// principals of the store --store names: their names (users, roles) and
// their ARNs. It reads only the principal column's dictionaries.
func completePrincipals(cmd *cobra.Command) {
	_ = cmd.RegisterFlagCompletionFunc("principal", func(c *cobra.Command, _ []string, toComplete string) ([]string, cobra.ShellCompDirective) {
		st := storeOf(c)
		if st == nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		arns, err := store.PrincipalARNs(c.Context(), st, store.Query{})
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		var out []string
		for _, a := range arns {
			for _, s := range []string{analyzer.PrincipalName(a), a} {
				if strings.HasPrefix(s, toComplete) && !slices.Contains(out, s) {
					out = append(out, s)
				}
			}
		}
		slices.Sort(out)
		return out, cobra.ShellCompDirectiveNoFileComp
	})
}

// completeAccounts makes the shell complete --account with the accounts
// of the store.
func completeAccounts(cmd *cobra.Command) {
	_ = cmd.RegisterFlagCompletionFunc("account", func(c *cobra.Command, _ []string, _ string) ([]string, cobra.ShellCompDirective) {
		st := storeOf(c)
		if st == nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		accts, _ := analyzer.Accounts(st)
		return accts, cobra.ShellCompDirectiveNoFileComp
	})
}

// storeOf opens, without creating anything, the store the command line
// names, or returns nil.
func storeOf(c *cobra.Command) *store.Store {
	dir, err := c.Flags().GetString("store")
	if err != nil {
		return nil
	}
	if isRemoteStore(dir) {
		return nil // completion does not wait on the network
	}
	st, err := store.OpenExisting(dir)
	if err != nil {
		return nil
	}
	return st
}
