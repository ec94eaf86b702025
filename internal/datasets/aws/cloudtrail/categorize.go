package cloudtrail

import (
	"strings"

	"github.com/mamori-sec/mamori/internal/event"
)

// categorize sets event.outcome, event.category and event.type.
//
// The outcome is a failure when the call returned an error; a console
// sign-in says so in its responseElements.
func categorize(ev *event.Event, r *record) {
	if r.EventType == eventTypeInsight {
		// An anomaly report, not a call: it has no outcome.
		ev.Set("event.type", []string{"info"})
		return
	}
	outcome := "success"
	if r.ErrorCode != "" || r.ErrorMessage != "" {
		outcome = "failure"
	}
	if r.EventName == "ConsoleLogin" {
		switch ev.String(flatResponse + "ConsoleLogin") {
		case "Success":
			outcome = "success"
		case "Failure":
			outcome = "failure"
		}
	}
	ev.SetString("event.outcome", outcome)
	category, types := classify(r)
	ev.Set("event.category", category)
	ev.Set("event.type", types)
}

// classify follows Elastic's CloudTrail categorisation and generalises it:
// sign-ins and STS credential calls are authentication; every IAM and
// Identity Center call is iam, typed by what it acts on (user, group, or
// admin for roles, policies and account settings) and whether it reads,
// creates, deletes or changes; key pairs are iam admin and buckets file,
// as Elastic has them. Other management calls that write are
// configuration changes. Anything else is only "info".
func classify(r *record) (category, types []string) {
	action := r.EventName
	switch r.EventSource {
	case "signin.amazonaws.com":
		return []string{"authentication"}, []string{"info"}
	case "sts.amazonaws.com":
		switch {
		case strings.HasPrefix(action, "AssumeRole"), action == "AssumeRoot",
			action == "GetFederationToken", action == "GetSessionToken":
			return []string{"authentication"}, []string{"info"}
		}
	case "iam.amazonaws.com", "identitystore.amazonaws.com":
		return []string{"iam"}, iamTypes(action)
	case "ec2.amazonaws.com":
		switch action {
		case "CreateKeyPair", "ImportKeyPair":
			return []string{"iam"}, []string{"admin", "creation"}
		case "DeleteKeyPair":
			return []string{"iam"}, []string{"admin", "deletion"}
		}
	case "s3.amazonaws.com":
		switch action {
		case "CreateBucket":
			return []string{"file"}, []string{"creation"}
		case "DeleteBucket":
			return []string{"file"}, []string{"deletion"}
		}
	}
	if t := configChange(r); t != "" {
		return []string{"configuration"}, []string{t}
	}
	return nil, []string{"info"}
}

// iamTypes types an IAM call: what it acts on, then how.
func iamTypes(action string) []string {
	verb, noun := splitVerb(action)
	entity := iamEntity(verb, noun)
	switch verb {
	case "Get", "List", "Generate", "Simulate":
		return []string{entity, "info"}
	case "Create":
		if isIAMEntity(noun) {
			return []string{entity, "creation"}
		}
	case "Delete":
		if isIAMEntity(noun) {
			return []string{entity, "deletion"}
		}
	}
	// Creating an access key or deleting a user's policy changes the user.
	return []string{entity, "change"}
}

// splitVerb splits an API name at its second capitalised word:
// "AddUserToGroup" is "Add", "UserToGroup".
func splitVerb(action string) (verb, noun string) {
	for i := 1; i < len(action); i++ {
		if c := action[i]; c >= 'A' && c <= 'Z' {
			return action[:i], action[i:]
		}
	}
	return action, ""
}

// iamEntity names the ECS event.type of what an IAM call acts on.
func iamEntity(verb, noun string) string {
	switch {
	case verb == "Change" && noun == "Password":
		return "user"
	case strings.HasSuffix(noun, "ForUser"):
		return "user"
	case strings.Contains(noun, "Group"):
		return "group"
	case strings.Contains(noun, "User"):
		return "user"
	}
	// A user's credentials.
	for _, p := range [...]string{"AccessKey", "LoginProfile", "MFADevice", "VirtualMFADevice",
		"SSHPublicKey", "SigningCertificate", "ServiceSpecificCredential"} {
		if strings.HasPrefix(noun, p) {
			return "user"
		}
	}
	return "admin"
}

// isIAMEntity reports whether creating or deleting noun creates or
// deletes an identity or policy itself rather than changing one.
func isIAMEntity(noun string) bool {
	switch noun {
	case "User", "Group", "Role", "Policy", "InstanceProfile", "ServiceLinkedRole",
		"SAMLProvider", "OpenIDConnectProvider", "AccountAlias":
		return true
	}
	return false
}

// configChange returns the event.type of a management call that writes
// ("creation", "deletion", "change"), or "" for reads, data events
// (S3 objects, Lambda invocations), Insights and service events.
func configChange(r *record) string {
	if r.ReadOnly.is(true) || r.ManagementEvent.is(false) {
		return ""
	}
	if r.EventCategory != "" && r.EventCategory != "Management" {
		return ""
	}
	if r.EventType != "" && r.EventType != "AwsApiCall" && r.EventType != "AwsConsoleAction" {
		return ""
	}
	switch r.EventName {
	case "StopLogging", "StartLogging":
		return "change"
	}
	verb, _ := splitVerb(r.EventName)
	switch verb {
	case "Create", "Register", "Import":
		return "creation"
	case "Delete", "Deregister":
		return "deletion"
	case "Put", "Update", "Modify", "Attach", "Detach", "Associate", "Disassociate",
		"Authorize", "Revoke", "Enable", "Disable", "Set", "Add", "Remove", "Replace",
		"Tag", "Untag", "Reset":
		return "change"
	}
	return ""
}
