package bench

import (
	"fmt"
	"math/rand/v2"
	"strconv"
)

// The pools are the values events draw from: a company's servers, office
// clients, people and service accounts, and the internet addresses that
// scan and attack it. They are built once from the seed, so a seed always
// gives the same data.

type host struct {
	name    string
	ip      string
	mac     string
	hostID  int    // Deep Security's "Host ID" (cn1)
	windows bool   // anti-malware paths are Windows paths on these
	rfc5424 bool   // this host's rsyslog sends RFC 5424 rather than RFC 3164
	iface   string // network interface in kernel firewall lines
}

type pools struct {
	hosts     []host
	clients   []string // office and VPN client addresses (10.50.0.0/16, 10.60.0.0/16)
	external  []string // internet addresses, some busy, most seen rarely
	people    []string // employees' login names
	services  []string // service accounts that log in to servers
	attackers []string // user names that brute-force attempts try
	accounts  []string // AWS account ids
	roles     []string // IAM roles assumed by people and automation
	buckets   []string // S3 buckets

	pickHost     *rand.Zipf
	pickExternal *rand.Zipf
	pickClient   *rand.Zipf
}

// externalPrefixes are where the generated internet addresses come from:
// ranges that show up in real scan and brute-force logs, /24s and /16s.
// 203.0.113.0/24 is left out: the needle address lives there alone.
var externalPrefixes = []string{
	"45.155.205.", "185.220.101.", "89.248.165.", "141.98.10.", "193.32.162.",
	"5.188.206.", "61.177.172.", "218.92.0.", "222.186.15.", "103.145.13.",
	"198.51.100.", "192.0.2.", "162.142.125.", "167.94.138.", "71.6.199.",
	"36.110.", "117.50.", "180.76.", "114.119.", "20.150.", "34.96.", "52.194.",
}

var hostRoles = []struct {
	prefix  string
	count   int
	windows bool
}{
	{"web-prd", 24, false}, {"app-prd", 32, false}, {"api-prd", 16, false},
	{"db-prd", 8, false}, {"batch-prd", 6, false}, {"k8s-node", 40, false},
	{"web-stg", 8, false}, {"app-stg", 8, false}, {"jump", 2, false},
	{"win-fs", 6, true}, {"win-ad", 4, true}, {"win-app", 12, true}, {"vdi", 60, true},
}

var peopleNames = []string{
	"tsato", "hsuzuki", "ktakahashi", "ytanaka", "mito", "nwatanabe", "ayamamoto",
	"snakamura", "kkato", "yyoshida", "hyamada", "msasaki", "tyamaguchi", "kmatsumoto",
	"ainoue", "rkimura", "shayashi", "nshimizu", "yyamazaki", "tmori", "kabe", "yikeda",
	"hhashimoto", "syamashita", "kishikawa", "mnakajima", "tmaeda", "rfujita", "kogawa",
	"yokada", "dgoto", "ahasegawa", "smurakami", "tkondo", "nishii", "msaito", "ksakamoto",
	"eendo", "yaoki", "tfujii", "knishimura", "rfukuda", "hota", "smiura", "yfujiwara",
	"tokamoto", "mmatsuda", "hnakano", "knakagawa", "aharada",
}

var serviceAccounts = []string{
	"deploy", "ansible", "jenkins", "backup", "monitor", "ec2-user", "ubuntu", "postgres", "nginx", "www-data",
}

var attackerUsers = []string{
	"root", "admin", "test", "user", "oracle", "postgres", "guest", "ftpuser", "git", "pi",
	"support", "ubuntu", "mysql", "administrator", "test1", "hadoop", "deploy", "dev", "www", "steam",
}

func newPools(r *rand.Rand) *pools {
	p := &pools{
		people:    peopleNames,
		services:  serviceAccounts,
		attackers: attackerUsers,
		roles:     []string{"OrganizationAccountAccessRole", "AdministratorAccess", "ReadOnlyAccess", "ci-deploy", "lambda-exec", "ecs-task", "backup-operator"},
		buckets:   []string{"corp-logs-archive", "app-prd-assets", "data-lake-raw", "finance-reports", "ci-artifacts", "customer-exports"},
	}
	group := 20
	id := 100
	for _, role := range hostRoles {
		for n := 1; n <= role.count; n++ {
			id += 1 + r.IntN(7)
			h := host{
				name:    fmt.Sprintf("%s-%02d", role.prefix, n),
				ip:      "10." + strconv.Itoa(group) + "." + strconv.Itoa(n/200) + "." + strconv.Itoa(10+n%200),
				mac:     fmt.Sprintf("00:50:56:%02X:%02X:%02X", r.IntN(256), r.IntN(256), r.IntN(256)),
				hostID:  id,
				windows: role.windows,
				rfc5424: r.IntN(5) < 2,
				iface:   []string{"eth0", "ens5", "ens192"}[r.IntN(3)],
			}
			p.hosts = append(p.hosts, h)
		}
		group++
	}
	for range 2000 {
		p.clients = append(p.clients, "10."+strconv.Itoa(50+10*r.IntN(2))+"."+strconv.Itoa(r.IntN(64))+"."+strconv.Itoa(1+r.IntN(254)))
	}
	seen := map[string]bool{}
	for len(p.external) < 20000 {
		prefix := externalPrefixes[r.IntN(len(externalPrefixes))]
		ip := prefix + strconv.Itoa(1+r.IntN(254))
		if countDots(prefix) == 2 { // a /16: two octets to add
			ip = prefix + strconv.Itoa(r.IntN(256)) + "." + strconv.Itoa(1+r.IntN(254))
		}
		if !seen[ip] {
			seen[ip] = true
			p.external = append(p.external, ip)
		}
	}
	for range 4 {
		p.accounts = append(p.accounts, fmt.Sprintf("%012d", r.Int64N(1e12)))
	}
	// A few hosts, clients and attackers make most of the noise.
	p.pickHost = rand.NewZipf(r, 1.2, 4, uint64(len(p.hosts)-1))
	p.pickExternal = rand.NewZipf(r, 1.1, 8, uint64(len(p.external)-1))
	p.pickClient = rand.NewZipf(r, 1.05, 16, uint64(len(p.clients)-1))
	return p
}

func countDots(s string) int {
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] == '.' {
			n++
		}
	}
	return n
}

func (p *pools) host() *host        { return &p.hosts[p.pickHost.Uint64()] }
func (p *pools) externalIP() string { return p.external[p.pickExternal.Uint64()] }
func (p *pools) clientIP() string   { return p.clients[p.pickClient.Uint64()] }
