package auth

import (
	"errors"
	"fmt"
	"net/netip"
	"regexp"
	"slices"
	"sort"

	"github.com/mamori-sec/mamori/internal/config"
	"github.com/mamori-sec/mamori/internal/datasets/mamoriaudit"
	"github.com/mamori-sec/mamori/internal/search"
)

// User is a configured user.
type User struct {
	Name string
	Role Role
	// Access is what the user reads; nil (admins) reads everything.
	Access *search.Access
	hash   *passwordHash // nil: tokens only
}

// Directory holds the configured users, with their roles and grants.
type Directory struct {
	users map[string]*User
	// dummy is verified for unknown user names, so that a failed login
	// takes as long whether the name exists or not.
	dummy *passwordHash
	// proxies are the trusted reverse proxies (auth.trusted_proxies).
	proxies []netip.Prefix
}

// userName is what a user (or token owner) may be called: no spaces, no
// colon ("cli:" names the command line in the audit log).
var userName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._@+-]{0,63}$`)

// CheckUserName reports whether s may name a user or a token's owner.
func CheckUserName(s string) error {
	if !userName.MatchString(s) {
		return fmt.Errorf("user name %q: letters, digits and . _ @ + - only, at most 64, starting with a letter or digit", s)
	}
	return nil
}

// NewDirectory checks the auth section and builds the directory. Its
// errors name the field they are about, one per line.
func NewDirectory(cfg config.Auth) (*Directory, error) {
	d := &Directory{users: map[string]*User{}}
	var errs []error
	groupNames := make([]string, 0, len(cfg.Groups))
	for name := range cfg.Groups {
		groupNames = append(groupNames, name)
	}
	sort.Strings(groupNames)
	for _, name := range groupNames {
		if name == "" {
			errs = append(errs, errors.New("auth.groups: a group has an empty name"))
		}
		errs = append(errs, checkGrant("auth.groups."+name, cfg.Groups[name])...)
	}
	for i, cu := range cfg.Users {
		where := fmt.Sprintf("auth.users[%d]", i)
		if cu.Name != "" {
			where = fmt.Sprintf("auth.users[%d] (%s)", i, cu.Name)
		}
		if err := CheckUserName(cu.Name); err != nil {
			errs = append(errs, fmt.Errorf("%s.name: %w", where, err))
		} else if d.users[cu.Name] != nil {
			errs = append(errs, fmt.Errorf("%s.name: %q is configured twice", where, cu.Name))
		}
		u := &User{Name: cu.Name}
		switch role := Role(cu.Role); role {
		case Admin, Analyst:
			u.Role = role
		case "":
			u.Role = Analyst
		default:
			errs = append(errs, fmt.Errorf("%s.role: %q: want admin or analyst (ingest and metrics are for tokens: mamori token create --role)", where, cu.Role))
		}
		if cu.PasswordHash != "" {
			h, err := parseHash(cu.PasswordHash)
			if err != nil {
				// The hash itself is not repeated: it is a secret of sorts.
				errs = append(errs, fmt.Errorf("%s.password_hash: %w", where, err))
			} else {
				u.hash = &h
				if d.dummy == nil {
					d.dummy = &h
				}
			}
		}
		for j, g := range cu.Groups {
			if _, ok := cfg.Groups[g]; !ok {
				errs = append(errs, fmt.Errorf("%s.groups[%d]: no group %q in auth.groups", where, j, g))
			}
		}
		errs = append(errs, checkGrant(where+".datasets", cu.Datasets)...)
		if u.Role == Admin && (len(cu.Groups) > 0 || len(cu.Datasets.Allow) > 0 || len(cu.Datasets.Deny) > 0) {
			errs = append(errs, fmt.Errorf("%s: an admin sees every dataset: remove groups and datasets, or make the user an analyst", where))
		}
		if u.Role == Analyst {
			u.Access = analystAccess(cu, cfg.Groups)
		}
		if cu.Name != "" && d.users[cu.Name] == nil {
			d.users[cu.Name] = u
		}
	}
	for i, p := range cfg.TrustedProxies {
		pfx, err := netip.ParsePrefix(p)
		if err != nil {
			addr, aerr := netip.ParseAddr(p)
			if aerr != nil {
				errs = append(errs, fmt.Errorf("auth.trusted_proxies[%d]: %q is not an address or CIDR", i, p))
				continue
			}
			pfx = netip.PrefixFrom(addr, addr.BitLen())
		}
		d.proxies = append(d.proxies, pfx.Masked())
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return d, nil
}

func checkGrant(where string, g config.Grant) []error {
	var errs []error
	for i, p := range g.Allow {
		if err := search.CheckPattern(p); err != nil {
			errs = append(errs, fmt.Errorf("%s.allow[%d]: %w", where, i, err))
		}
	}
	for i, p := range g.Deny {
		if err := search.CheckPattern(p); err != nil {
			errs = append(errs, fmt.Errorf("%s.deny[%d]: %w", where, i, err))
		}
	}
	return errs
}

// analystAccess combines a user's own grant with their groups': a
// dataset is seen when some grant allows it (a group without allow allows
// every dataset; the user's own allow adds to the groups') and no grant
// denies it. The audit log (mamori.audit) is hidden unless an allow names
// it (not through "*").
func analystAccess(u config.User, groups map[string]config.Grant) *search.Access {
	var allow, deny []string
	anyAllow := false // some grant limits what is allowed
	all := false      // some grant allows everything
	add := func(g config.Grant, isGroup bool) {
		deny = append(deny, g.Deny...)
		switch {
		case len(g.Allow) > 0:
			anyAllow = true
			allow = append(allow, g.Allow...)
			if slices.Contains(g.Allow, "*") {
				all = true
			}
		case isGroup:
			anyAllow = true
			all = true
		}
	}
	for _, name := range u.Groups {
		add(groups[name], true)
	}
	add(u.Datasets, false)
	a := &search.Access{Deny: dedupe(deny)}
	if anyAllow && !all {
		a.Allow = dedupe(allow)
	}
	if !slices.Contains(allow, mamoriaudit.Name) && !slices.Contains(allow, "mamori.*") {
		a.Deny = dedupe(append(a.Deny, mamoriaudit.Name))
	}
	return a
}

func dedupe(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	out := slices.Clone(s)
	sort.Strings(out)
	return slices.Compact(out)
}

// Enabled reports whether any user is configured.
func (d *Directory) Enabled() bool { return d != nil && len(d.users) > 0 }

// Lookup returns the user of this name.
func (d *Directory) Lookup(name string) (*User, bool) {
	u, ok := d.users[name]
	return u, ok
}

// Users returns the configured user names, sorted.
func (d *Directory) Users() []string {
	out := make([]string, 0, len(d.users))
	for n := range d.users {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// Authenticate checks a user name and password. An unknown name, a user
// without a password and a wrong password all fail alike, and take about
// as long: a password hash is verified in each case.
func (d *Directory) Authenticate(name, password string) (*User, bool) {
	u, ok := d.users[name]
	if !ok || u.hash == nil {
		if d.dummy != nil {
			d.dummy.verify(password) // for the time it takes; the answer is no
		}
		return nil, false
	}
	if !u.hash.verify(password) {
		return nil, false
	}
	return u, true
}

// Principal is the caller u is, with a role no wider than role ("" for
// the user's own).
func (u *User) Principal(role Role, via string) *Principal {
	p := &Principal{User: u.Name, Role: u.Role, Access: u.Access, Via: via}
	switch role {
	case Ingest, Metrics:
		p.Role, p.Access = role, denyAll
	case Analyst:
		if u.Role == Admin {
			// An admin's analyst token reads what an analyst without
			// grants reads: everything but the audit log.
			p.Role, p.Access = Analyst, &search.Access{Deny: []string{mamoriaudit.Name}}
		}
	}
	return p
}
