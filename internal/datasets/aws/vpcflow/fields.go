package vpcflow

import "strings"

// kind says how a flow log field is mapped. Fields without an ECS home and
// without special handling are kindVendor: kept as text under aws.vpcflow.
type kind uint8

const (
	kindVendor kind = iota
	kindVersion
	kindAccountID
	kindInterfaceID
	kindSrcAddr
	kindDstAddr
	kindSrcPort
	kindDstPort
	kindProtocol
	kindPackets
	kindBytes
	kindStart
	kindEnd
	kindAction
	kindLogStatus
	kindInstanceID
	kindTCPFlags
	kindType
	kindPktSrcAddr
	kindPktDstAddr
	kindRegion
	kindAZID
	kindFlowDirection
	kindRejectReason
)

// column is one field of a record's layout: how it is mapped and, for
// vendor fields, the event field it is kept under.
type column struct {
	kind   kind
	target string
	name   string // as the header names it, for error messages
}

// knownFields are the field names AWS documents for flow log records
// (versions 2 to 8), as a header line or a custom format names them.
var knownFields = map[string]column{
	// version 2: the default format, in its order
	"version":      {kindVersion, "aws.vpcflow.version", ""},
	"account-id":   {kindAccountID, "aws.vpcflow.account_id", ""},
	"interface-id": {kindInterfaceID, "aws.vpcflow.interface_id", ""},
	"srcaddr":      {kindSrcAddr, "", ""},
	"dstaddr":      {kindDstAddr, "", ""},
	"srcport":      {kindSrcPort, "", ""},
	"dstport":      {kindDstPort, "", ""},
	"protocol":     {kindProtocol, "", ""},
	"packets":      {kindPackets, "", ""},
	"bytes":        {kindBytes, "", ""},
	"start":        {kindStart, "", ""},
	"end":          {kindEnd, "", ""},
	"action":       {kindAction, "aws.vpcflow.action", ""},
	"log-status":   {kindLogStatus, "aws.vpcflow.log_status", ""},
	// version 3
	"vpc-id":      {kindVendor, "aws.vpcflow.vpc_id", ""},
	"subnet-id":   {kindVendor, "aws.vpcflow.subnet_id", ""},
	"instance-id": {kindInstanceID, "aws.vpcflow.instance_id", ""},
	"tcp-flags":   {kindTCPFlags, "aws.vpcflow.tcp_flags", ""},
	"type":        {kindType, "aws.vpcflow.type", ""},
	"pkt-srcaddr": {kindPktSrcAddr, "aws.vpcflow.pkt_srcaddr", ""},
	"pkt-dstaddr": {kindPktDstAddr, "aws.vpcflow.pkt_dstaddr", ""},
	// version 4
	"region":           {kindRegion, "", ""},
	"az-id":            {kindAZID, "", ""},
	"sublocation-type": {kindVendor, "aws.vpcflow.sublocation.type", ""},
	"sublocation-id":   {kindVendor, "aws.vpcflow.sublocation.id", ""},
	// version 5
	"pkt-src-aws-service": {kindVendor, "aws.vpcflow.pkt_src_service", ""},
	"pkt-dst-aws-service": {kindVendor, "aws.vpcflow.pkt_dst_service", ""},
	"flow-direction":      {kindFlowDirection, "", ""},
	"traffic-path":        {kindVendor, "aws.vpcflow.traffic_path", ""},
	// version 7: Amazon ECS metadata
	"ecs-cluster-arn":            {kindVendor, "aws.vpcflow.ecs_cluster_arn", ""},
	"ecs-cluster-name":           {kindVendor, "aws.vpcflow.ecs_cluster_name", ""},
	"ecs-container-instance-arn": {kindVendor, "aws.vpcflow.ecs_container_instance_arn", ""},
	"ecs-container-instance-id":  {kindVendor, "aws.vpcflow.ecs_container_instance_id", ""},
	"ecs-container-id":           {kindVendor, "aws.vpcflow.ecs_container_id", ""},
	"ecs-second-container-id":    {kindVendor, "aws.vpcflow.ecs_second_container_id", ""},
	"ecs-service-name":           {kindVendor, "aws.vpcflow.ecs_service_name", ""},
	"ecs-task-definition-arn":    {kindVendor, "aws.vpcflow.ecs_task_definition_arn", ""},
	"ecs-task-arn":               {kindVendor, "aws.vpcflow.ecs_task_arn", ""},
	"ecs-task-id":                {kindVendor, "aws.vpcflow.ecs_task_id", ""},
	// version 8
	"reject-reason": {kindRejectReason, "aws.vpcflow.reject_reason", ""},
}

// versionOrder lists the fields in the order AWS's field table gives them,
// which is the order of the default format (the first 14) and of a custom
// format that selects every field up to a version.
var versionOrder = []string{
	"version", "account-id", "interface-id", "srcaddr", "dstaddr", "srcport", "dstport",
	"protocol", "packets", "bytes", "start", "end", "action", "log-status",
	"vpc-id", "subnet-id", "instance-id", "tcp-flags", "type", "pkt-srcaddr", "pkt-dstaddr",
	"region", "az-id", "sublocation-type", "sublocation-id",
	"pkt-src-aws-service", "pkt-dst-aws-service", "flow-direction", "traffic-path",
}

// defaultLayouts are the layouts assumed for a record without a header, by
// its number of fields: the default (version 2) format, and every field of
// versions up to 3, 4 and 5 in AWS's order. Other custom formats cannot be
// told apart by their width and need the object's header line.
var defaultLayouts = map[int][]column{
	14: layoutOf(versionOrder[:14]),
	21: layoutOf(versionOrder[:21]),
	25: layoutOf(versionOrder[:25]),
	29: layoutOf(versionOrder[:29]),
}

func layoutOf(names []string) []column {
	cols := make([]column, len(names))
	for i, n := range names {
		cols[i] = columnOf(n)
	}
	return cols
}

// columnOf maps a header name. Names AWS adds later are kept as text under
// aws.vpcflow with '-' turned into '_', so a new field is never lost.
func columnOf(name string) column {
	c, ok := knownFields[name]
	if !ok {
		c = column{kindVendor, "aws.vpcflow." + strings.ReplaceAll(name, "-", "_"), ""}
	}
	c.name = name
	return c
}

// headerLayout returns the layout a header line names, or false when the
// tokens are not a header line: the first must be a documented field name
// and every one must look like one (lower-case letters, digits and '-',
// starting with a letter), so that no data line is mistaken for a header.
func headerLayout(tokens []string) ([]column, bool) {
	if len(tokens) == 0 {
		return nil, false
	}
	if _, ok := knownFields[tokens[0]]; !ok {
		return nil, false
	}
	for _, t := range tokens {
		if !isFieldName(t) {
			return nil, false
		}
	}
	cols := make([]column, len(tokens))
	for i, t := range tokens {
		cols[i] = columnOf(t)
	}
	return cols, true
}

func isFieldName(s string) bool {
	if s == "" || s[0] < 'a' || s[0] > 'z' {
		return false
	}
	for i := 1; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// ianaTransport names the common IANA protocol numbers as ECS
// network.transport expects them (lower-case IANA keywords).
var ianaTransport = map[string]string{
	"0": "hopopt", "1": "icmp", "2": "igmp", "4": "ipv4", "6": "tcp", "8": "egp",
	"17": "udp", "41": "ipv6", "47": "gre", "50": "esp", "51": "ah", "58": "ipv6-icmp",
	"89": "ospf", "103": "pim", "112": "vrrp", "132": "sctp", "136": "udplite",
}

// tcpFlagNames are the TCP flag bits AWS reports, lowest bit first.
var tcpFlagNames = [...]string{"fin", "syn", "rst", "psh", "ack", "urg"}
