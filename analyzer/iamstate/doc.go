// Package iamstate is iamlens's model of an AWS account's IAM state: its
// users, groups, roles and managed policies with their documents, each
// user's credentials, and the credential report, as read at one moment
// (Account.CollectedAt).
//
// It has two layers. The outputs (AuthorizationDetails,
// CredentialReportOutput, VirtualMFADevicesOutput, UserCredentials, gathered
// in Outputs) are the JSON of the AWS calls as the AWS CLI prints them;
// policy documents in them keep the exact text AWS returned. Build turns
// outputs into an Account, the model the commands query: policy documents
// parsed into iampolicy.Document, credentials merged from the credential
// report and the per-user reads, and problems (a document that does not
// parse, a report cell that is not a date) listed rather than fatal.
//
// Readers: ReadGAAD (get-account-authorization-details, one object or
// several pages), ReadCredentialReport (the CSV, or the JSON of
// get-credential-report), ReadSnapshot (the IAM part of an `iamlens collect`
// snapshot), ReadAirIAM (AirIAM's iam_data.json) and, in package live, the
// IAM API itself. Load reads files by content.
//
// Nothing here looks at the wall clock: an Account is judged at its own
// CollectedAt.
package iamstate
