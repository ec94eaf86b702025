package auth

import (
	"strings"
	"testing"

	"github.com/mamori-sec/mamori/internal/config"
)

func mustHash(t *testing.T, pw string) string {
	t.Helper()
	h, err := HashPassword(pw, fastArgon2)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func TestDirectoryErrorsNameTheirField(t *testing.T) {
	cfg := config.Auth{
		Groups: map[string]config.Grant{"staff": {Deny: []string{"hr.*", "bad pattern"}}},
		Users: []config.User{
			{Name: "alice", PasswordHash: "hunter2"},
			{Name: "alice", Role: "analyst"},
			{Name: "bob smith"},
			{Name: "carol", Role: "ingest"},
			{Name: "dave", Groups: []string{"nope"}},
			{Name: "erin", Role: "admin", Groups: []string{"staff"}},
			{Name: "frank", Datasets: config.Grant{Allow: []string{"aws.*", "x*y"}}},
		},
		TrustedProxies: []string{"10.0.0.0/8", "proxy.example"},
	}
	_, err := NewDirectory(cfg)
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{
		"auth.groups.staff.deny[1]",
		"auth.users[0] (alice).password_hash: not an argon2id",
		`auth.users[1] (alice).name: "alice" is configured twice`,
		"auth.users[2] (bob smith).name",
		`auth.users[3] (carol).role: "ingest": want admin or analyst`,
		`auth.users[4] (dave).groups[0]: no group "nope"`,
		"auth.users[5] (erin): an admin sees every dataset",
		"auth.users[6] (frank).datasets.allow[1]",
		`auth.trusted_proxies[1]: "proxy.example"`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
	if strings.Contains(err.Error(), "hunter2") {
		t.Error("the error repeats a password hash field's content")
	}
}

// TestGrants holds the combination rules of docs/access.md: allows add up
// (a group without allow allows everything), any deny wins, and the audit
// log is hidden from analysts unless an allow names it.
func TestGrants(t *testing.T) {
	groups := map[string]config.Grant{
		"staff":  {Deny: []string{"google_workspace.drive", "hr.*"}},
		"hr":     {Allow: []string{"hr.*"}},
		"cloud":  {Allow: []string{"aws.*"}},
		"audit":  {Allow: []string{"mamori.audit"}},
		"nosshd": {Deny: []string{"linux.syslog"}},
	}
	type check map[string]bool
	for _, tc := range []struct {
		name string
		user config.User
		sees check
	}{
		{"no grants", config.User{}, check{"linux.syslog": true, "hr.payroll": true, "mamori.audit": false}},
		{"staff", config.User{Groups: []string{"staff"}},
			check{"linux.syslog": true, "google_workspace.drive": false, "google_workspace.login": true, "hr.payroll": false, "hr": true}},
		{"staff and hr: deny wins", config.User{Groups: []string{"staff", "hr"}}, check{"hr.payroll": false, "aws.cloudtrail": true}},
		{"hr only", config.User{Groups: []string{"hr"}}, check{"hr.payroll": true, "aws.cloudtrail": false}},
		{"hr and cloud add up", config.User{Groups: []string{"hr", "cloud"}},
			check{"hr.payroll": true, "aws.cloudtrail": true, "linux.syslog": false}},
		{"own allow adds to a group's", config.User{Groups: []string{"cloud"}, Datasets: config.Grant{Allow: []string{"dns.query"}}},
			check{"dns.query": true, "aws.vpcflow": true, "linux.syslog": false}},
		{"own allow alone limits", config.User{Datasets: config.Grant{Allow: []string{"dns.query"}}}, check{"dns.query": true, "linux.syslog": false}},
		{"own deny narrows", config.User{Groups: []string{"cloud"}, Datasets: config.Grant{Deny: []string{"aws.cloudtrail"}}},
			check{"aws.cloudtrail": false, "aws.vpcflow": true}},
		{"star does not grant the audit log", config.User{Datasets: config.Grant{Allow: []string{"*"}}}, check{"mamori.audit": false, "linux.syslog": true}},
		{"audit named", config.User{Groups: []string{"audit"}, Datasets: config.Grant{Allow: []string{"*"}}},
			check{"mamori.audit": true, "linux.syslog": true}},
		{"group without allow with another", config.User{Groups: []string{"nosshd", "hr"}},
			check{"linux.syslog": false, "aws.cloudtrail": true, "hr.payroll": true}},
	} {
		u := tc.user
		u.Name, u.Role = "u", "analyst"
		d, err := NewDirectory(config.Auth{Groups: groups, Users: []config.User{u}})
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		usr, _ := d.Lookup("u")
		for ds, want := range tc.sees {
			if got := usr.Access.Sees(ds); got != want {
				t.Errorf("%s: sees %s = %v, want %v (access %+v)", tc.name, ds, got, want, *usr.Access)
			}
		}
	}
}

func TestAdminSeesEverything(t *testing.T) {
	d, err := NewDirectory(config.Auth{Users: []config.User{{Name: "root", Role: "admin"}}})
	if err != nil {
		t.Fatal(err)
	}
	u, _ := d.Lookup("root")
	if u.Access != nil || !u.Access.Sees("mamori.audit") {
		t.Errorf("admin access %+v", u.Access)
	}
	// An admin's analyst token reads like an analyst: no audit log.
	p := u.Principal(Analyst, ViaToken)
	if p.Role != Analyst || p.Access.Sees("mamori.audit") || !p.Access.Sees("linux.syslog") {
		t.Errorf("admin's analyst token: %+v %+v", p, p.Access)
	}
}

func TestTokenRoleNeverWidens(t *testing.T) {
	d, err := NewDirectory(config.Auth{Users: []config.User{{Name: "alice", Role: "analyst",
		Datasets: config.Grant{Deny: []string{"hr.*"}}}}})
	if err != nil {
		t.Fatal(err)
	}
	u, _ := d.Lookup("alice")
	if p := u.Principal(Admin, ViaToken); p.Role != Analyst || p.Access.Sees("hr.x") {
		t.Errorf("an admin token of an analyst: %+v", p)
	}
	if p := u.Principal(Ingest, ViaToken); p.Role != Ingest || p.Access.Sees("linux.syslog") {
		t.Errorf("an ingest token reads events: %+v", p)
	}
	if err := d.CheckTokenUser("alice", Admin); err == nil {
		t.Error("an admin token may be created for an analyst")
	}
	if err := d.CheckTokenUser("fluentbit", Ingest); err != nil {
		t.Errorf("an ingest token for a sender: %v", err)
	}
	if err := d.CheckTokenUser("nobody", ""); err == nil {
		t.Error("a user token may be created for an unconfigured user")
	}
}

func TestAuthenticate(t *testing.T) {
	d, err := NewDirectory(config.Auth{Users: []config.User{
		{Name: "alice", PasswordHash: mustHash(t, "s3cret!")},
		{Name: "svc"}, // tokens only
	}})
	if err != nil {
		t.Fatal(err)
	}
	if u, ok := d.Authenticate("alice", "s3cret!"); !ok || u.Name != "alice" || u.Role != Analyst {
		t.Errorf("alice: %v %v", u, ok)
	}
	for _, c := range [][2]string{{"alice", "wrong"}, {"Alice", "s3cret!"}, {"nobody", "s3cret!"}, {"svc", ""}} {
		if _, ok := d.Authenticate(c[0], c[1]); ok {
			t.Errorf("%q/%q logged in", c[0], c[1])
		}
	}
}

func TestPermitted(t *testing.T) {
	for _, tc := range []struct {
		role         Role
		method, path string
		want         bool
	}{
		{Admin, "POST", "/api/v1/rules/run", true},
		{Analyst, "POST", "/api/v1/rules/run", false},
		{Analyst, "GET", "/api/v1/rules", true},
		{Analyst, "GET", "/api/v1/search", true},
		{Analyst, "POST", "/api/v1/alerts/01ABC/ack", true},
		{Analyst, "POST", "/api/v1/alerts/01ABC/resolve", true},
		{Analyst, "POST", "/api/v1/alerts/01ABC/delete", false},
		{Analyst, "POST", "/api/v1/intake/cef", false},
		{Analyst, "GET", "/metrics", false},
		{Analyst, "GET", "/search", true},
		{Analyst, "POST", "/api/v1/auth/logout", true},
		{Ingest, "POST", "/api/v1/intake/cef", true},
		{Ingest, "POST", "/api/v1/archive/scan", true},
		{Ingest, "GET", "/api/v1/search", false},
		{Ingest, "GET", "/", false},
		{Ingest, "GET", "/api/v1/auth/me", true},
		{Metrics, "GET", "/metrics", true},
		{Metrics, "GET", "/api/v1/alerts", false},
		{Metrics, "POST", "/api/v1/intake/cef", false},
		{Analyst, "GET", "/debug/pprof/heap", false},
		{Metrics, "GET", "/debug/pprof/heap", false},
		{Admin, "GET", "/debug/pprof/heap", true},
	} {
		if got := Permitted(tc.role, tc.method, tc.path); got != tc.want {
			t.Errorf("Permitted(%s, %s %s) = %v, want %v", tc.role, tc.method, tc.path, got, tc.want)
		}
	}
}
