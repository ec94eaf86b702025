package e2e

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// gzipped compresses data as AWS's deliveries are.
func gzipped(data string) []byte {
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	zw.Write([]byte(data))
	zw.Close()
	return b.Bytes()
}

// vendorObjects are archive objects in AWS's own S3 layouts, keyed by
// their keys: a CloudTrail log file with two records, its digest (which
// holds no events), and a VPC flow log with a header and two flows.
func vendorObjects() map[string][]byte {
	day := time.Now().UTC().Format("2006/01/02")
	stamp := time.Now().UTC().Add(-time.Minute).Format(time.RFC3339)
	trail := `{"Records":[` +
		`{"eventVersion":"1.09","userIdentity":{"type":"Root","principalId":"111122223333","arn":"arn:aws:iam::111122223333:root","accountId":"111122223333"},"eventTime":"` + stamp + `","eventSource":"signin.amazonaws.com","eventName":"ConsoleLogin","awsRegion":"us-east-1","sourceIPAddress":"198.51.100.23","userAgent":"Mozilla/5.0","responseElements":{"ConsoleLogin":"Success"},"eventID":"e1","eventType":"AwsConsoleSignIn","recipientAccountId":"111122223333"},` +
		`{"eventVersion":"1.09","userIdentity":{"type":"IAMUser","principalId":"AIDAEXAMPLE","arn":"arn:aws:iam::111122223333:user/bob","accountId":"111122223333","userName":"bob"},"eventTime":"` + stamp + `","eventSource":"cloudtrail.amazonaws.com","eventName":"StopLogging","awsRegion":"us-east-1","sourceIPAddress":"198.51.100.24","userAgent":"aws-cli/2.15.0","eventID":"e2","eventType":"AwsApiCall","recipientAccountId":"111122223333"}` +
		`]}`
	epoch := time.Now().Add(-time.Minute).Unix()
	flows := "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status\n" +
		fmt.Sprintf("2 111122223333 eni-0a1b2c3d4e5f60001 203.0.113.12 172.31.16.139 49152 443 6 20 4249 %d %d ACCEPT OK\n", epoch, epoch+60) +
		fmt.Sprintf("2 111122223333 eni-0a1b2c3d4e5f60001 198.51.100.7 172.31.16.139 53211 22 6 3 180 %d %d REJECT OK\n", epoch, epoch+60)
	return map[string][]byte{
		"AWSLogs/111122223333/CloudTrail/us-east-1/" + day + "/111122223333_CloudTrail_us-east-1_20261120T1000Z_abc.json.gz": gzipped(trail),
		"AWSLogs/111122223333/CloudTrail-Digest/us-east-1/" + day + "/111122223333_CloudTrail-Digest_us-east-1_x.json.gz": gzipped(
			`{"awsAccountId":"111122223333","digestStartTime":"` + stamp + `","digestEndTime":"` + stamp + `","digestS3Bucket":"b","digestS3Object":"o","logFiles":[]}`),
		"AWSLogs/111122223333/vpcflowlogs/us-east-1/" + day + "/111122223333_vpcflowlogs_us-east-1_fl-1_20261120T1000Z_h.log.gz": gzipped(flows),
	}
}

// checkVendorObjects waits for the events of vendorObjects, each once.
func checkVendorObjects(t *testing.T, s *server, round string, want map[string]int64) {
	t.Helper()
	for q, n := range want {
		if got := s.waitCount(q, n, 15*time.Second); got != n {
			t.Fatalf("%s: %s found %d events, want %d\n%s", round, q, got, n, s.log.String())
		}
	}
	if n, err := s.count("event.action:StopLogging AND source.ip:198.51.100.24"); err != nil || n != 1 {
		t.Fatalf("%s: the StopLogging record: %d, %v", round, n, err)
	}
	if n, err := s.count("_exists_:error.message"); err != nil || n != 0 {
		t.Fatalf("%s: %d events failed to parse (%v)", round, n, err)
	}
}

// TestCollectorsAndVendorLayouts runs the real binary with a file tail (a
// Kea lease log) and a source prefix without a dataset, holding objects in
// CloudTrail's and VPC flow logs' own S3 layouts as AWS writes them (gzip,
// a CloudTrail digest beside them). Every record is ingested under its
// dataset, and once only: a restart neither re-reads the tailed file nor
// re-processes the objects.
func TestCollectorsAndVendorLayouts(t *testing.T) {
	dataDir := t.TempDir()
	for key, data := range vendorObjects() {
		path := filepath.Join(dataDir, "archive", filepath.FromSlash(key))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}

	keaLog := filepath.Join(t.TempDir(), "kea-dhcp4.log")
	now := time.Now().UTC().Format("2006-01-02 15:04:05.000")
	kea := now + " INFO  [kea-dhcp4.leases/1234.140245] DHCP4_LEASE_ALLOC [hwtype=1 00:0c:29:aa:bb:cc], cid=[01:00:0c:29:aa:bb:cc], tid=0x1a2b3c4d: lease 192.0.2.50 has been allocated for 3600 seconds\n" +
		now + " INFO  [kea-dhcp4.leases/1234.140245] DHCP4_LEASE_ALLOC [hwtype=1 00:0c:29:aa:bb:dd], cid=[01:00:0c:29:aa:bb:dd], tid=0x1a2b3c4e: lease 192.0.2.51 has been allocated for 3600 seconds\n"
	if err := os.WriteFile(keaLog, []byte(kea), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(t.TempDir(), "mamori.yaml")
	if err := os.WriteFile(cfg, []byte(`timezone: UTC
sources:
  - prefix: AWSLogs/
collect:
  tail:
    - path: `+keaLog+`
      dataset: dhcp.lease
      poll_interval: 100ms
      flush_interval: 200ms
`), 0o644); err != nil {
		t.Fatal(err)
	}

	want := map[string]int64{"event.dataset:aws.cloudtrail": 2, "event.dataset:aws.vpcflow": 2, "event.dataset:dhcp.lease": 2}
	check := func(s *server, round string) {
		t.Helper()
		checkVendorObjects(t, s, round, want)
	}
	s := startServer(t, dataDir, "--config", cfg)
	check(s, "first run")
	s.stop()

	// More lines while stopped are read after the restart, the rest not
	// again; the objects are not processed again.
	f, err := os.OpenFile(keaLog, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(strings.Replace(strings.SplitAfter(kea, "\n")[0], "192.0.2.50", "192.0.2.52", 1))
	f.Close()
	want["event.dataset:dhcp.lease"] = 3
	s = startServer(t, dataDir, "--config", cfg)
	check(s, "after a restart")
	time.Sleep(time.Second) // time for a wrong second ingestion to show
	check(s, "a second later")
}
