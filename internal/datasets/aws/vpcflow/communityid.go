package vpcflow

import (
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"net/netip"
)

// communityID computes the Community ID flow hash (version 1, seed 0), so
// that a flow can be joined with the same flow seen by Zeek, Suricata or a
// firewall. It covers the port-based transports only (TCP, UDP, SCTP): ICMP
// would need the type and code, which flow logs do not carry.
func communityID(src, dst netip.Addr, sport, dport uint16, proto string) (string, bool) {
	var p byte
	switch proto {
	case "6":
		p = 6
	case "17":
		p = 17
	case "132":
		p = 132
	default:
		return "", false
	}
	if src.Is4() != dst.Is4() {
		return "", false
	}
	// The hash is direction-free: the lesser endpoint goes first.
	if c := src.Compare(dst); c > 0 || c == 0 && sport > dport {
		src, dst, sport, dport = dst, src, dport, sport
	}
	var buf [2 + 16 + 16 + 2 + 4]byte
	b := buf[:2] // seed 0
	b = append(b, src.AsSlice()...)
	b = append(b, dst.AsSlice()...)
	b = append(b, p, 0)
	b = binary.BigEndian.AppendUint16(b, sport)
	b = binary.BigEndian.AppendUint16(b, dport)
	sum := sha1.Sum(b)
	return "1:" + base64.StdEncoding.EncodeToString(sum[:]), true
}
