package googleworkspace

import "strings"

// app is one Reports API application that has a dataset.
type app struct {
	dataset     string
	description string
	// names are the applicationName values the Reports API gives it.
	names []string
	// ns is the vendor namespace of its parameters: google_workspace.<ns>.
	ns string
	// classify gives the ECS categorisation of one of its events.
	classify func(action, eventType string) class
}

// class is an event's ECS categorisation. Empty fields are left unset.
type class struct {
	kind     string
	category []string
	typ      []string
	outcome  string
}

func appTable() []app {
	return []app{
		{dataset: LoginName, names: []string{"login"}, ns: "login", classify: classifyLogin,
			description: "Google Workspace login audit activities (Reports API, applicationName=login)"},
		{dataset: AdminName, names: []string{"admin"}, ns: "admin", classify: classifyAdmin,
			description: "Google Workspace Admin console audit activities (Reports API, applicationName=admin)"},
		{dataset: DriveName, names: []string{"drive"}, ns: "drive", classify: classifyDrive,
			description: "Google Workspace Drive audit activities (Reports API, applicationName=drive)"},
		{dataset: TokenName, names: []string{"token"}, ns: "token", classify: classifyToken,
			description: "Google Workspace OAuth token audit activities (Reports API, applicationName=token)"},
		// The Reports API calls the device audit log "mobile".
		{dataset: DeviceName, names: []string{"mobile", "device"}, ns: "device", classify: classifyDevice,
			description: "Google Workspace device audit activities (Reports API, applicationName=mobile)"},
	}
}

func (a *app) has(name string) bool {
	for _, n := range a.names {
		if n == name {
			return true
		}
	}
	return false
}

// lookup returns the app an applicationName belongs to, or nil.
func lookup(apps []app, name string) *app {
	for i := range apps {
		if apps[i].has(name) {
			return &apps[i]
		}
	}
	return nil
}

// The login categorisation follows Elastic's login pipeline as its
// documents show it: every login-audit event is about authentication,
// sign-in and sign-out also open or close a session, and changes to the
// account's credentials or state are typed user/change.
func classifyLogin(action, _ string) class {
	switch action {
	case "login_success":
		return class{category: list("authentication", "session"), typ: list("start"), outcome: "success"}
	case "login_failure":
		return class{category: list("authentication", "session"), typ: list("start"), outcome: "failure"}
	case "logout", "user_signed_out_due_to_suspicious_session_cookie":
		return class{category: list("authentication", "session"), typ: list("end")}
	case "login_challenge", "login_verification",
		"suspicious_login", "suspicious_login_less_secure_app", "suspicious_programmatic_login":
		return class{category: list("authentication"), typ: list("info")}
	case "risky_sensitive_action_allowed":
		return class{category: list("authentication"), typ: list("info"), outcome: "success"}
	case "risky_sensitive_action_blocked":
		return class{category: list("authentication"), typ: list("info"), outcome: "failure"}
	case "account_disabled_generic", "account_disabled_spamming_through_relay", "account_disabled_spamming",
		"account_disabled_hijacked", "account_disabled_password_leak",
		"password_edit", "recovery_email_edit", "recovery_phone_edit", "recovery_secret_qa_edit",
		"2sv_disable", "2sv_enroll", "titanium_enroll", "titanium_unenroll",
		"passkey_enrolled", "passkey_removed":
		return class{category: list("authentication"), typ: list("user", "change")}
	case "gov_attack_warning":
		return class{kind: "alert", category: list("authentication"), typ: list("user", "info")}
	case "blocked_sender", "email_forwarding_out_of_domain":
		return class{category: list("configuration"), typ: list("change")}
	}
	return class{}
}

// classifyAdmin: every Admin console event is identity and access
// management; changing a setting is also configuration. The type comes
// from the verb the event name starts with.
func classifyAdmin(action, eventType string) class {
	c := class{category: list("iam")}
	if isSettingChange(action, eventType) {
		c.category = append(c.category, "configuration")
	}
	switch {
	case hasAnyPrefix(action, "CREATE_", "INSERT_", "GENERATE_") || action == "UNDELETE_USER":
		c.typ = list("creation")
	case strings.HasPrefix(action, "DELETE_"):
		c.typ = list("deletion")
	case hasAnyPrefix(action, "VIEW_", "DOWNLOAD_", "VERIFY_", "SKIP_", "REQUEST_") || action == "EMAIL_LOG_SEARCH":
		c.typ = list("info")
	default:
		c.typ = list("change")
	}
	switch eventType {
	case "USER_SETTINGS":
		c.typ = append(c.typ, "user")
	case "GROUP_SETTINGS":
		c.typ = append(c.typ, "group")
	case "DELEGATED_ADMIN_SETTINGS":
		c.typ = append(c.typ, "admin")
	}
	return c
}

// isSettingChange reports an Admin event that changes a setting: one that
// says so, or a switch-like verb (ALLOW_, ENFORCE_, TOGGLE_, CHANGE_ ...)
// among the settings event types other than users, groups and roles,
// which are identities rather than configuration.
func isSettingChange(action, eventType string) bool {
	if strings.Contains(action, "SETTING") {
		return true
	}
	switch eventType {
	case "USER_SETTINGS", "GROUP_SETTINGS", "DELEGATED_ADMIN_SETTINGS", "LICENSES_SETTINGS":
		return false
	}
	return strings.HasSuffix(eventType, "_SETTINGS") &&
		hasAnyPrefix(action, "ALLOW_", "DISALLOW_", "ENFORCE_", "ENABLE_", "DISABLE_", "TOGGLE_", "CHANGE_")
}

// classifyDrive: every Drive event is about a file; sharing and approval
// changes also change who may access it (iam, configuration).
func classifyDrive(action, _ string) class {
	c := class{category: list("file")}
	if isDriveAccessChange(action) {
		c.category = append(c.category, "iam", "configuration")
		c.typ = list("change")
		return c
	}
	switch action {
	case "add_to_folder", "edit", "add_lock", "remove_lock", "move", "remove_from_folder", "rename", "sheets_import_range":
		c.typ = list("change")
	case "create", "upload", "untrash", "copy":
		c.typ = list("creation")
	case "delete", "trash":
		c.typ = list("deletion")
	case "view", "preview", "download", "print":
		c.typ = list("access")
	default:
		c.typ = list("info")
	}
	return c
}

func isDriveAccessChange(action string) bool {
	switch action {
	case "change_acl_editors", "change_document_access_scope", "change_document_visibility", "change_user_access",
		"shared_drive_membership_change", "shared_drive_settings_change", "sheets_import_range_access_change":
		return true
	}
	return strings.HasPrefix(action, "approval_")
}

// classifyToken: OAuth grants are identity and access management;
// authorising and revoking act on a user's grants.
func classifyToken(action, _ string) class {
	switch action {
	case "authorize":
		return class{category: list("iam"), typ: list("info", "user")}
	case "revoke":
		return class{category: list("iam"), typ: list("user", "deletion")}
	}
	return class{category: list("iam"), typ: list("info")}
}

// classifyDevice: device audit events are about managed hosts (ECS host:
// inventory and lifecycle); those that change a device say so.
func classifyDevice(action, _ string) class {
	c := class{category: list("host"), typ: list("info")}
	if strings.Contains(action, "CHANGE") || strings.Contains(action, "UPDATE") || action == "DEVICE_REGISTER_UNREGISTER_EVENT" {
		c.typ = list("change")
	}
	return c
}

// list returns a fresh slice, so that no two events share one.
func list(s ...string) []string { return s }

func hasAnyPrefix(s string, prefixes ...string) bool {
	for _, p := range prefixes {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}
