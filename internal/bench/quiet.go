package bench

import (
	"bytes"
	"fmt"
	"strconv"
	"time"
)

// The alert-latency run needs background traffic that keeps the server
// busy without raising alerts of its own (a storm would measure the storm,
// not the path of one alert), and probes that a built-in rule turns into
// an alert at once.

// quietLines generates n background lines with the generator's CEF and
// syslog mix, dated over the day before end, keeping only quiet ones.
func quietLines(n int, end time.Time, seed uint64) ([][]byte, error) {
	// Generate more than needed: about a third of the lines are dropped.
	g, err := NewGenerator(GenConfig{Events: int64(4 * n), Days: 1, End: end, Seed: seed,
		Mix: Mix{KindCEF: DefaultMix[KindCEF], KindSyslog: DefaultMix[KindSyslog]}})
	if err != nil {
		return nil, err
	}
	out := make([][]byte, 0, n)
	for len(out) < n {
		_, line, ok := g.Next(nil)
		if !ok {
			return nil, fmt.Errorf("the generator gave only %d quiet lines of %d", len(out), n)
		}
		if quiet(line) {
			out = append(out, line)
		}
	}
	return out, nil
}

// quiet reports whether a generated line is one no built-in rule acts on:
// Deep Security events that blocked nothing (allowed or logged traffic,
// the manager's sign-ins), no anti-malware event, and no sshd line (the
// brute-force correlation counts failed logins per address, and over a
// long run a pool address could cross its threshold). The package's tests
// run the built-in rules over such lines to hold this.
func quiet(line []byte) bool {
	if bytes.Contains(line, []byte(" CEF:")) {
		return !bytes.Contains(line, []byte(" act=Deny")) && !bytes.Contains(line, []byte(" act=Reset")) &&
			!bytes.Contains(line, []byte("TrendMicroDsMalwareTarget="))
	}
	return !bytes.Contains(line, []byte("sshd"))
}

// probeHostPrefix starts the host name of every probe; the probe's
// sequence number follows, six digits.
const probeHostPrefix = "latency-probe-"

func probeHost(seq int) string { return fmt.Sprintf("%s%06d", probeHostPrefix, seq) }

// probeRules are the built-in rules the probes raise alerts of, even
// probes the first, odd ones the second.
var probeRules = [2]string{"mamori-deepsecurity-malware", "mamori-deepsecurity-ips-blocked"}

// probeLine appends probe seq: a Deep Security event from a host of its
// own (the probe's marker), so that a built-in rule that alerts on a
// single event raises a new alert for it, grouped by that host. Probes
// take turns between two rules (probeRules): anti-malware, and intrusion
// prevention that reset the connection.
func probeLine(b []byte, seq int, t time.Time) []byte {
	h := &host{name: probeHost(seq), ip: "10.20." + strconv.Itoa(seq/250%250) + "." + strconv.Itoa(1+seq%250),
		mac: "00:50:56:AB:CD:EF", hostID: 900000 + seq}
	if seq%2 == 0 {
		sig := signature{id: "4000000", name: "Eicar_test_file", severity: 6}
		b = cefHeader(b, t, h.name, dsaProduct, dsaVersion, sig)
		b = agentCommon(b, h)
		b = extInt(b, "cn2", 68)
		b = ext(b, "cn2Label", "Quarantine File Size")
		b = ext(b, "filePath", "/tmp/"+h.name+"/eicar.com")
		b = ext(b, "act", "Quarantine")
		b = ext(b, "msg", "Realtime")
		b = ext(b, "TrendMicroDsMalwareTarget", "N/A")
		return ext(b, "fileHash", "3395856CE81F2B7382DEE72602F798B642F14140")
	}
	sig := signature{id: "1008224", name: "Microsoft Windows SMB Remote Code Execution Vulnerability (CVE-2017-0144)", severity: 10}
	b = cefHeader(b, t, h.name, dsaProduct, dsaVersion, sig)
	b = agentCommon(b, h)
	b = ext(b, "act", "Reset")
	b = ext(b, "dmac", h.mac)
	b = ext(b, "smac", "00:1B:21:3C:4D:5E")
	b = ext(b, "TrendMicroDsFrameType", "IP")
	b = ext(b, "src", "198.51.100.23")
	b = ext(b, "dst", h.ip)
	b = extInt(b, "in", 1024)
	b = ext(b, "proto", "TCP")
	b = extInt(b, "spt", 49152+seq%16000)
	b = extInt(b, "dpt", 445)
	b = extInt(b, "cnt", 1)
	b = ext(b, "cs1", "CVE-2017-0144")
	return ext(b, "cs1Label", "Intrusion Prevention Note")
}
