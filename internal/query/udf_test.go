package query

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/mamori-sec/mamori/internal/event"
)

func openFunctionsDB(t testing.TB) *sql.DB {
	t.Helper()
	ctx := context.Background()
	db, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatalf("open duckdb: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatalf("conn: %v", err)
	}
	defer conn.Close()
	if err := RegisterFunctions(ctx, conn); err != nil {
		t.Fatalf("RegisterFunctions: %v", err)
	}
	return db
}

func TestIPInCIDRFunction(t *testing.T) {
	db := openFunctionsDB(t)
	for _, tc := range []struct {
		ip, cidr any
		want     any
	}{
		{"10.1.2.3", "10.0.0.0/8", true},
		{"11.1.2.3", "10.0.0.0/8", false},
		{"10.0.0.15", "10.0.0.0/28", true},
		{"10.0.0.16", "10.0.0.0/28", false},
		{"10.0.0.16", "10.0.0.17/28", true}, // host bits are ignored
		{"::ffff:10.0.0.1", "10.0.0.0/8", true},
		{"10.0.0.1", "::ffff:10.0.0.0/104", true},
		{"2001:db8::1", "2001:db8::/32", true},
		{"2001:db9::1", "2001:db8::/32", false},
		{"fe80::1%eth0", "fe80::/10", true},
		{"10.0.0.1", "::/0", false},
		{"not an ip", "10.0.0.0/8", false},
		{"10.0.0.1", "not a cidr", false},
		{"10.0.0.1", "10.0.0.1", false}, // an address is not a CIDR
		{nil, "10.0.0.0/8", nil},
		{"10.0.0.1", nil, nil},
	} {
		var got any
		if err := db.QueryRow("SELECT ip_in_cidr(?::VARCHAR, ?::VARCHAR)", tc.ip, tc.cidr).Scan(&got); err != nil {
			t.Fatalf("ip_in_cidr(%v, %v): %v", tc.ip, tc.cidr, err)
		}
		if got != tc.want {
			t.Errorf("ip_in_cidr(%v, %v) = %v, want %v", tc.ip, tc.cidr, got, tc.want)
		}
	}
}

// TestIPInCIDRChunks runs the function over many chunks whose CIDR changes
// from row to row, with NULLs among them, against a direct evaluation.
func TestIPInCIDRChunks(t *testing.T) {
	db := openFunctionsDB(t)
	if _, err := db.Exec(`CREATE TABLE pairs (i INTEGER, ip VARCHAR, cidr VARCHAR)`); err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(1, 2))
	cidrs := []string{"10.0.0.0/8", "10.128.0.0/9", "192.168.1.0/24", "2001:db8::/33", "0.0.0.0/0"}
	const n = 10000
	want := make([]any, n)
	var args []any
	for i := range n {
		ip := any(randomIP(r))
		cidr := any(cidrs[(i/3)%len(cidrs)])
		switch i % 97 {
		case 0:
			ip = nil
		case 1:
			cidr = nil
		}
		if ip != nil && cidr != nil {
			p, _ := parseCIDR(cidr.(string))
			want[i] = inPrefix(ip.(string), p)
		}
		args = append(args, i, ip, cidr)
	}
	const batch = 500
	for i := 0; i < n; i += batch {
		stmt := "INSERT INTO pairs VALUES (?, ?, ?)" + strings.Repeat(", (?, ?, ?)", batch-1)
		if _, err := db.Exec(stmt, args[3*i:3*(i+batch)]...); err != nil {
			t.Fatal(err)
		}
	}
	rows, err := db.Query(`SELECT i, ip_in_cidr(ip, cidr) FROM pairs ORDER BY i`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	got := make([]any, n)
	for rows.Next() {
		var i int
		var v any
		if err := rows.Scan(&i, &v); err != nil {
			t.Fatal(err)
		}
		got[i] = v
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	for i := range n {
		if got[i] != want[i] {
			t.Fatalf("row %d: ip_in_cidr = %v, want %v", i, got[i], want[i])
		}
	}
}

// randomIP returns canonical addresses clustered so that CIDRs hit: IPv4
// in 10/8 and 192.168/16, IPv6 in 2001:db8::/32, and some anywhere.
func randomIP(r *rand.Rand) string {
	switch r.IntN(4) {
	case 0:
		return fmt.Sprintf("10.%d.%d.%d", r.IntN(256), r.IntN(256), r.IntN(256))
	case 1:
		return fmt.Sprintf("192.168.%d.%d", r.IntN(3), r.IntN(256))
	case 2:
		var b [16]byte
		b[0], b[1], b[2], b[3] = 0x20, 0x01, 0x0d, byte(0xb8+r.IntN(2))
		for i := 4; i < 16; i++ {
			if r.IntN(3) > 0 {
				b[i] = byte(r.IntN(256))
			}
		}
		return netip.AddrFrom16(b).String()
	}
	return netip.AddrFrom4([4]byte{byte(r.IntN(256)), byte(r.IntN(256)), byte(r.IntN(256)), byte(r.IntN(256))}).String()
}

// TestCIDRPlansAgree checks the text shortcuts Compile takes for CIDRs on
// promoted IP columns (a leading-text test, exact for octet-aligned IPv4
// prefixes) against the plain containment test, on random addresses.
func TestCIDRPlansAgree(t *testing.T) {
	var events []*event.Event
	r := rand.New(rand.NewPCG(3, 4))
	var ips []string
	for i := range 600 {
		ip := randomIP(r)
		ips = append(ips, ip)
		e := fixtureEvent(fmt.Sprintf("r%04d", i))
		e.Set("source.ip", ip)
		e.FillRelated()
		events = append(events, e)
	}
	db := openFixtureDB(t, events)
	var prefixes []string
	for _, bits := range []int{0, 1, 7, 8, 9, 12, 16, 20, 24, 27, 31, 32} {
		for range 3 {
			a, _ := netip.ParseAddr(ips[r.IntN(len(ips))])
			if a.Is4() {
				p, _ := a.Prefix(bits)
				prefixes = append(prefixes, p.String())
			}
		}
	}
	for _, bits := range []int{0, 16, 29, 32, 33, 48, 64, 100, 127, 128} {
		for range 3 {
			a, _ := netip.ParseAddr(ips[r.IntN(len(ips))])
			if a.Is6() {
				p, _ := a.Prefix(bits)
				prefixes = append(prefixes, p.String())
			}
		}
	}
	for _, cidr := range prefixes {
		p, _ := parseCIDR(cidr)
		want := []string{}
		for i, ip := range ips {
			if inPrefix(ip, p) {
				want = append(want, fmt.Sprintf("r%04d", i))
			}
		}
		for _, field := range []string{"source.ip", "related.ip"} {
			q := field + ":" + cidr
			where, args, err := ToSQL(q)
			if err != nil {
				t.Fatalf("ToSQL(%q): %v", q, err)
			}
			got, err := sqlIDs(t, db, where, args)
			if err != nil {
				t.Fatalf("%q: %v", q, err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("%q (%s %v) selects %d events, want %d", q, where, args, len(got), len(want))
			}
		}
	}
}

func fixtureEvent(id string) *event.Event {
	e := event.New(8)
	e.Set(event.FieldID, id)
	e.Set(event.FieldTimestamp, time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC))
	e.Set(event.FieldDataset, "test")
	return e
}
