package policygen

import (
	"fmt"
	"testing"

	"github.com/iamlens/iamlens/analyzer/iampolicy"
)

// A document's characters add up from its statements' (what the greedy
// split in Result.size counts on): Chars of a document of n statements is
// charsOf(nil) + each statement's charsOf + n-1 commas, whatever the
// statements hold (lists of one value or many, conditions, characters
// JSON escapes, spaces inside values).
func TestCharsAddUp(t *testing.T) {
	var stmts []Statement
	for i := range 12 {
		s := Statement{Sid: fmt.Sprintf("S%d", i), Effect: "Allow", Action: []string{"s3:GetObject"}, Resource: []string{"*"}}
		switch i % 4 {
		case 1:
			s.Action = append(s.Action, "s3:PutObject", "ec2:DescribeInstances")
			s.Resource = []string{"arn:aws:s3:::b <x> & \"q\"/k ey", "arn:aws:s3:::é/\u2028"}
		case 2:
			s.Condition = iampolicy.Conditions{{Operator: "StringEquals", Key: "aws:SourceIp", Values: []string{"10.0.0.1", "10.0.0.2"}},
				{Operator: "Bool", Key: "aws:MultiFactorAuthPresent", Values: []string{"true"}}}
		case 3:
			s.Sid = ""
			s.Action = nil
			s.NotAction = []string{"iam:*"}
		}
		stmts = append(stmts, s)
	}
	base := charsOf(nil)
	for n := 0; n <= len(stmts); n++ {
		want := Chars(&Document{Version: PolicyVersion, Statement: stmts[:n]})
		got := base
		for i := range stmts[:n] {
			got += charsOf(&stmts[i])
			if i > 0 {
				got++
			}
		}
		if got != want {
			t.Fatalf("%d statements: added up to %d characters, Chars says %d", n, got, want)
		}
	}
}
