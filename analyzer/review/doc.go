// Package review is the periodic IAM review: which users, access keys,
// passwords and roles are no longer used, which keys only fail or are used
// rarely but regularly, and who owns each (owner clues). It reads the
// account's IAM state (package iamstate) and the dataset's activity over
// its whole span (Usage, read once for every principal), judges them at a
// given time with documented rules (DefaultRules; docs/review.md), and
// renders the report as a table, markdown, JSON, CSV or a self-contained
// HTML page. Package policygen/keyplan turns its findings into a staged
// key-disable plan.
package review
