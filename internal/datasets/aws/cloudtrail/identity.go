package cloudtrail

import (
	"strings"

	"github.com/mamori-sec/mamori/internal/event"
)

// userIdentity is the record's userIdentity element.
type userIdentity struct {
	Type, PrincipalID, ARN, AccountID, AccessKeyID, UserName string
	InvokedBy, IdentityProvider, CredentialID                string
	SessionContext                                           *sessionContext
	OnBehalfOf                                               struct{ UserID, IdentityStoreARN string }
}

type sessionContext struct {
	MFAAuthenticated, CreationDate string // attributes
	SessionIssuer                  struct{ Type, PrincipalID, ARN, AccountID, UserName string }
	FederatedProvider              string // webIdFederationData
	SourceIdentity                 string
	EC2RoleDelivery                string
}

// hiddenUser is what CloudTrail writes for the user name of a failed
// sign-in with a name that is not an IAM user (it may be a mistyped
// password): no user.
const hiddenUser = "HIDDEN_DUE_TO_SECURITY_REASONS"

// set maps the identity to user.* and aws.cloudtrail.user_identity.*.
// user.name is who acted, by identity type: the IAM user, the role of an
// assumed-role session (as Elastic does; the session name is kept apart),
// the federated user, the SAML or web identity user, "root", or the AWS
// service acting on its own.
func (u *userIdentity) set(ev *event.Event) {
	const ui = "aws.cloudtrail.user_identity."
	ev.SetString(ui+"type", u.Type)
	ev.SetString(ui+"arn", u.ARN)
	ev.SetString(ui+"account_id", u.AccountID)
	ev.SetString(ui+"access_key_id", u.AccessKeyID)
	ev.SetString(ui+"invoked_by", u.InvokedBy)
	ev.SetString(ui+"identity_provider", u.IdentityProvider)
	ev.SetString(ui+"credential_id", u.CredentialID)
	ev.SetString("user.id", u.PrincipalID)

	name := u.UserName
	if name == hiddenUser {
		name = ""
	}
	if sc := u.SessionContext; sc != nil {
		const sx = ui + "session_context."
		ev.SetString(sx+"mfa_authenticated", sc.MFAAuthenticated)
		if t, ok := parseTime(sc.CreationDate); ok {
			ev.Set(sx+"creation_date", t)
		}
		ev.SetString(sx+"source_identity", sc.SourceIdentity)
		ev.SetString(sx+"ec2_role_delivery", sc.EC2RoleDelivery)
		ev.SetString(sx+"web_id_federation_data.federated_provider", sc.FederatedProvider)
		si := sc.SessionIssuer
		ev.SetString(sx+"session_issuer.type", si.Type)
		ev.SetString(sx+"session_issuer.principal_id", si.PrincipalID)
		ev.SetString(sx+"session_issuer.arn", si.ARN)
		ev.SetString(sx+"session_issuer.account_id", si.AccountID)
		ev.SetString(sx+"session_issuer.user_name", si.UserName)
	}
	switch u.Type {
	case "AssumedRole":
		if u.SessionContext != nil && u.SessionContext.SessionIssuer.UserName != "" {
			name = u.SessionContext.SessionIssuer.UserName
		}
		// arn:aws:sts::123456789012:assumed-role/Role/session: the
		// session name is often the person (an SSO user's e-mail).
		if s := arnTail(u.ARN, "assumed-role/", 2); s != "" {
			ev.SetString(ui+"session_name", s)
			ev.Append(event.RelatedUser, s)
		}
	case "FederatedUser":
		// arn:aws:sts::123456789012:federated-user/Bob
		if s := arnTail(u.ARN, "federated-user/", 1); s != "" {
			name = s
		}
	case "Root":
		if name == "" {
			name = "root"
		}
	case "AWSService":
		if name == "" {
			name = u.InvokedBy
		}
	case "IdentityCenterUser":
		if u.OnBehalfOf.UserID != "" {
			ev.SetString("user.id", u.OnBehalfOf.UserID)
		}
	}
	ev.SetString(ui+"on_behalf_of.user_id", u.OnBehalfOf.UserID)
	ev.SetString(ui+"on_behalf_of.identity_store_arn", u.OnBehalfOf.IdentityStoreARN)
	ev.SetString("user.name", name)
}

// arnTail returns the part of an ARN's resource after marker, skipping
// skip-1 further "/"-separated segments: arnTail(arn, "assumed-role/", 2)
// is the session name after the role name. Role paths do not appear in
// assumed-role ARNs, so the segment count is fixed.
func arnTail(arn, marker string, skip int) string {
	i := strings.Index(arn, marker)
	if i < 0 {
		return ""
	}
	rest := arn[i+len(marker):]
	for ; skip > 1; skip-- {
		j := strings.IndexByte(rest, '/')
		if j < 0 {
			return ""
		}
		rest = rest[j+1:]
	}
	return rest
}

// relatedEntities fills related.entity with the identifiers of the caller
// and of what the call acted on: ARNs, principal and access key ids, user,
// role and group names. related.ip/user/hosts are left to FillRelated,
// which reads source.ip, user.*, source.domain.
func relatedEntities(ev *event.Event, r *record) {
	var buf [16]string
	ents := buf[:0]
	add := func(s string) {
		if s != "" && s != hiddenUser {
			ents = append(ents, s)
		}
	}
	if u := r.UserIdentity; u != nil {
		add(u.ARN)
		add(u.PrincipalID)
		add(u.UserName)
		add(u.AccessKeyID)
		add(u.IdentityProvider)
		if sc := u.SessionContext; sc != nil {
			add(sc.SessionIssuer.ARN)
			add(sc.SessionIssuer.UserName)
			add(sc.FederatedProvider)
			add(sc.SourceIdentity)
		}
	}
	for _, res := range r.Resources {
		add(res.ARN)
	}
	if r.EventName == "ConsoleLogin" {
		add(ev.String(flatAdditional + "MFAIdentifier"))
	}
	// Request and response members that name an identity or resource an
	// analyst pivots on: a role assumed, a user changed, a key used or
	// issued, a bucket, function or trail touched. "name" is a trail's
	// name for CloudTrail; elsewhere it is too generic to be an entity.
	const rq, rs = flatRequest, flatResponse
	for _, f := range [...]string{
		rq + "userName", rq + "newUserName", rq + "roleName", rq + "roleArn", rq + "roleSessionName",
		rq + "groupName", rq + "groupId", rq + "policyArn", rq + "policyName", rq + "accessKeyId",
		rq + "bucketName", rq + "instanceProfileName", rq + "serialNumber", rq + "principalArn",
		rq + "keyId", rq + "instanceId", rq + "functionName", rq + "secretId",
		rs + "assumedRoleUser.arn", rs + "credentials.accessKeyId", rs + "accessKey.accessKeyId",
		rs + "user.arn", rs + "role.arn", rs + "trailARN",
	} {
		add(ev.String(f))
	}
	if r.EventSource == "cloudtrail.amazonaws.com" {
		add(ev.String(rq + "name"))
	}
	ev.Append("related.entity", ents...)
}
