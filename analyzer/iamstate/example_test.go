package iamstate_test

import (
	"fmt"
	"path/filepath"

	"github.com/iamlens/iamlens/analyzer/iamstate"
)

// Load an `aws iam get-account-authorization-details` output and a
// credential report (here AirIAM's file, which holds both), and list the
// policies that apply to a user and its access keys.
func Example() {
	dir := filepath.Join("..", "..", "testdata", "iamstate")
	in, err := iamstate.Files{GAAD: filepath.Join(dir, "airiam", "iam_data-excerpt.json")}.Load()
	if err != nil {
		fmt.Println(err)
		return
	}
	a := iamstate.Build(in)
	fmt.Printf("account %s: %d users, %d groups, %d roles, %d managed policies, %d problems\n",
		a.ID, len(a.Users), len(a.Groups), len(a.Roles), len(a.Policies), len(a.Problems))

	u := a.User("gandalf@bridgecrew.io")
	e, err := a.EffectivePolicies(u.ARN)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, p := range e.Policies {
		fmt.Printf("  %s: %d statements\n", p.Label, len(p.Document.Statement))
	}
	for _, k := range u.AccessKeys {
		fmt.Printf("  access key %d: %s, created %s, last used %s in %s (%s)\n", k.ReportSlot, k.Status,
			k.Created.Format("2006-01-02"), k.LastUsed.Format("2006-01-02"), k.LastUsedRegion, k.LastUsedService)
	}
	// Output:
	// account 000000000000: 3 users, 1 groups, 2 roles, 6 managed policies, 0 problems
	//   group aws-admins: inline app_useres_authenticated_policyprod: 2 statements
	//   group aws-admins: managed Billing (arn:aws:iam::aws:policy/job-function/Billing): 1 statements
	//   group aws-admins: managed AdministratorAccess (arn:aws:iam::aws:policy/AdministratorAccess): 1 statements
	//   access key 1: Active, created 2019-07-10, last used 2020-03-19 in us-east-1 (sts)
}
