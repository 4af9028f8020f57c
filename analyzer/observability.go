package analyzer

import (
	"strings"

	"github.com/iamlens/iamlens/analyzer/catalog"
)

// What CloudTrail can show of an action's use decides whether an unused
// grant is evidence: an action no event ever names, or one logged only as
// a data event the trail may not record, looks unused whether it is used
// or not. `iamlens diff` lists such grants as not observable instead of
// suggesting their removal.

// neverLogged are actions no CloudTrail event names, with why: permissions
// checked inside another call, and data planes CloudTrail does not record.
var neverLogged = map[string]string{
	"iam:passrole":                  "a permission checked when another call passes a role: CloudTrail logs that call, never iam:PassRole",
	"sts:tagsession":                "checked inside sts:AssumeRole* when session tags are passed; no event of its own",
	"sts:setsourceidentity":         "checked inside sts:AssumeRole* when a source identity is set; no event of its own",
	"sts:setcontext":                "checked inside sts:AssumeRole* when context is passed; no event of its own",
	"execute-api:invoke":            "API Gateway invocations are not CloudTrail events",
	"execute-api:invalidatecache":   "API Gateway invocations are not CloudTrail events",
	"execute-api:manageconnections": "API Gateway WebSocket connection calls are not CloudTrail events",
	"rds-db:connect":                "IAM database authentication is not logged by CloudTrail",
}

// neverLoggedPrefixes are action prefixes (lower case) no event names.
var neverLoggedPrefixes = []struct{ prefix, why string }{
	{"es:eshttp", "OpenSearch HTTP requests are not CloudTrail events"},
}

// dataEvents are the services whose calls CloudTrail logs as data events
// (only when the trail's event selectors ask for them), each with its
// event source and its data-event actions (lower case names; for S3 also
// every action on objects).
var dataEvents = map[string]struct {
	source  string
	actions []string
}{
	"s3":     {"s3.amazonaws.com", []string{"listbucket", "listbucketversions", "listbucketmultipartuploads"}},
	"lambda": {"lambda.amazonaws.com", []string{"invokefunction", "invokeasync", "invokefunctionurl"}},
	"dynamodb": {"dynamodb.amazonaws.com", []string{"getitem", "batchgetitem", "putitem", "updateitem", "deleteitem",
		"batchwriteitem", "query", "scan", "conditioncheckitem", "partiqlselect", "partiqlinsert", "partiqlupdate",
		"partiqldelete", "getrecords", "getsharditerator"}},
	"sns":       {"sns.amazonaws.com", []string{"publish"}},
	"sqs":       {"sqs.amazonaws.com", []string{"sendmessage", "receivemessage", "deletemessage", "changemessagevisibility"}},
	"kinesis":   {"kinesis.amazonaws.com", []string{"putrecord", "putrecords", "getrecords", "getsharditerator", "subscribetoshard"}},
	"sagemaker": {"sagemaker.amazonaws.com", []string{"invokeendpoint", "invokeendpointasync"}},
	"ebs":       {"ebs.amazonaws.com", []string{"getsnapshotblock", "putsnapshotblock", "listchangedblocks", "listsnapshotblocks"}},
}

// ActionCatalog is what the observability questions need of the IAM
// catalogue (*catalog.Catalog).
type ActionCatalog interface {
	Action(full string) (*catalog.Action, bool)
}

// DataEventSource returns the event source ("s3.amazonaws.com") under
// which CloudTrail logs the action as a data event, or "" when its calls
// are management events.
func DataEventSource(action string, cat ActionCatalog) string {
	svc, name, ok := strings.Cut(strings.ToLower(action), ":")
	if !ok {
		return ""
	}
	d, ok := dataEvents[svc]
	if !ok {
		return ""
	}
	for _, a := range d.actions {
		if a == name {
			return d.source
		}
	}
	if svc == "s3" && cat != nil {
		if a, ok := cat.Action(action); ok {
			for _, r := range a.Resources {
				if r.Type == "object" {
					return d.source
				}
			}
		}
	}
	return ""
}

// Unobservable says why a use of action cannot be seen in the dataset:
// no CloudTrail event ever names it, or it is a data event and dataSeen
// (which reports whether the dataset holds data events of an event
// source) says none were read, so whether the trail records them is
// unknown. ok is false when a use would show.
func Unobservable(action string, cat ActionCatalog, dataSeen func(source string) bool) (why string, ok bool) {
	if w, found := NeverLogged(action); found {
		return w, true
	}
	if src := DataEventSource(action, cat); src != "" && (dataSeen == nil || !dataSeen(src)) {
		return DataEventReason(src), true
	}
	return "", false
}

// NeverLogged says why no CloudTrail event ever names the action, when
// none does (iam:PassRole, API Gateway invocations).
func NeverLogged(action string) (why string, ok bool) {
	la := strings.ToLower(action)
	if w, found := neverLogged[la]; found {
		return w, true
	}
	for _, p := range neverLoggedPrefixes {
		if strings.HasPrefix(la, p.prefix) {
			return p.why, true
		}
	}
	return "", false
}

// DataEventReason says why a data event of the source is not observable
// when the dataset holds none of its data events.
func DataEventReason(source string) string {
	return "a data event: the dataset holds no " + source + " data events, so whether the trail records them is unknown"
}
