package suggest

import (
	"slices"
	"testing"
)

func TestDistance(t *testing.T) {
	for _, tt := range []struct {
		a, b string
		want int
	}{
		{"", "", 0}, {"abc", "", 3}, {"", "abc", 3}, {"kitten", "sitting", 3},
		{"benjamin", "benjamn", 1}, {"flaw", "lawn", 2}, {"same", "same", 0},
	} {
		if got := Distance(tt.a, tt.b); got != tt.want {
			t.Errorf("Distance(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
		if got := Distance(tt.b, tt.a); got != tt.want {
			t.Errorf("Distance(%q, %q) = %d, want %d (not symmetric)", tt.b, tt.a, got, tt.want)
		}
	}
}

func TestClosest(t *testing.T) {
	services := []string{"dynamodb", "ec2", "iam", "lambda", "s3", "sts"}
	for _, tt := range []struct {
		word string
		max  int
		want []string
	}{
		{"dynamodbb", 8, []string{"dynamodb"}},
		{"lamda", 8, []string{"lambda"}},
		{"LAMBDA", 8, []string{"lambda"}}, // case is ignored
		{"nosuchservicexyz", 8, nil},
		{"s4", 8, []string{"s3", "sts"}}, // distance 1, then 2; ec2 and iam are 3 away
		{"s4", 1, []string{"s3"}},
		{"", 8, nil},
	} {
		if got := Closest(tt.word, services, tt.max, nil); !slices.Equal(got, tt.want) {
			t.Errorf("Closest(%q, %d) = %q, want %q", tt.word, tt.max, got, tt.want)
		}
	}
	// A key compares part of each candidate; containment counts as close.
	arns := []string{"arn:aws:iam::1:user/benjamin", "arn:aws:iam::1:role/deploy-prod", "arn:aws:iam::1:user/zed"}
	name := func(a string) string { return a[len("arn:aws:iam::1:user/"):] }
	if got := Closest("benjamn", arns, 5, name); !slices.Equal(got, arns[:1]) {
		t.Errorf("by name: %q", got)
	}
	if got := Closest("deploy", arns, 5, name); !slices.Equal(got, arns[1:2]) {
		t.Errorf("contained: %q", got)
	}
}
