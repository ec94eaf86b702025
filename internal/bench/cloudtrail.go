package bench

import (
	"strconv"
	"time"
)

// CloudTrail-like JSON records, about 1 KB each, with the fields a real
// CloudTrail record has (eventName, userIdentity, sourceIPAddress,
// requestParameters, ...), one object per line.

type apiCall struct {
	source, name string
	readOnly     bool
	category     string // Management or Data
}

var apiCalls = []apiCall{
	{"s3.amazonaws.com", "GetObject", true, "Data"},
	{"s3.amazonaws.com", "PutObject", false, "Data"},
	{"s3.amazonaws.com", "ListObjects", true, "Data"},
	{"ec2.amazonaws.com", "DescribeInstances", true, "Management"},
	{"ec2.amazonaws.com", "RunInstances", false, "Management"},
	{"ec2.amazonaws.com", "AuthorizeSecurityGroupIngress", false, "Management"},
	{"iam.amazonaws.com", "CreateAccessKey", false, "Management"},
	{"iam.amazonaws.com", "AttachUserPolicy", false, "Management"},
	{"sts.amazonaws.com", "AssumeRole", true, "Management"},
	{"sts.amazonaws.com", "GetCallerIdentity", true, "Management"},
	{"kms.amazonaws.com", "Decrypt", true, "Management"},
	{"signin.amazonaws.com", "ConsoleLogin", false, "Management"},
}

var regions = []string{"ap-northeast-1", "ap-northeast-1", "ap-northeast-1", "us-east-1", "us-west-2", "ap-southeast-1"}

var userAgents = []string{
	"aws-cli/2.15.30 Python/3.11.8 Linux/6.1.79-99.164.amzn2023.x86_64 exe/x86_64.amzn.2023",
	"Boto3/1.34.69 md/Botocore#1.34.69 ua/2.0 os/linux#5.15.0-1057-aws lang/python#3.10.12 Botocore/1.34.69",
	"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/123.0.0.0 Safari/537.36",
	"aws-sdk-go-v2/1.26.1 os/linux lang/go#1.22.2 md/GOOS#linux md/GOARCH#amd64 api/ec2#1.156.0",
	"Terraform/1.7.5 terraform-provider-aws/5.43.0 aws-sdk-go-v2/1.26.0",
}

// jstr appends s as a JSON string.
func jstr(b []byte, s string) []byte {
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
		case c < 0x20:
			b = append(b, `\u00`...)
			b = append(b, "0123456789abcdef"[c>>4], "0123456789abcdef"[c&15])
		default:
			b = append(b, c)
		}
	}
	return append(b, '"')
}

// field appends `"key":"value",`.
func field(b []byte, key, value string) []byte {
	b = jstr(b, key)
	b = append(b, ':')
	b = jstr(b, value)
	return append(b, ',')
}

func (g *Generator) json(b []byte, t time.Time, pl plant) []byte {
	call := apiCalls[g.r.IntN(len(apiCalls))]
	switch {
	case pl.ip != "":
		call = apiCall{"signin.amazonaws.com", "ConsoleLogin", false, "Management"}
	case pl.token != "":
		call = apiCalls[0] // GetObject
	}
	account := g.pick(g.p.accounts)
	region := g.pick(regions)
	ts := t.UTC().Format(time.RFC3339)
	human := pl.user != "" || call.name == "ConsoleLogin" || g.r.IntN(2) == 0

	b = append(b, `{"eventVersion":"1.09","userIdentity":{`...)
	if human {
		user := pl.user
		if user == "" {
			user = g.pick(g.p.people)
		}
		b = field(b, "type", "IAMUser")
		b = append(b, `"principalId":"AIDA`...)
		b = g.upperHex(b, 17)
		b = append(b, `",`...)
		b = field(b, "arn", "arn:aws:iam::"+account+":user/"+user)
		b = field(b, "accountId", account)
		b = append(b, `"accessKeyId":"AKIA`...)
		b = g.upperHex(b, 16)
		b = append(b, `",`...)
		b = field(b, "userName", user)
		b = append(b, `"sessionContext":{"attributes":{"creationDate":`...)
		b = jstr(b, t.Add(-time.Duration(g.r.IntN(3600))*time.Second).UTC().Format(time.RFC3339))
		b = append(b, `,"mfaAuthenticated":"true"}}},`...)
	} else {
		role := g.pick(g.p.roles)
		session := "i-0" + string(g.hex(nil, 16))
		b = field(b, "type", "AssumedRole")
		b = append(b, `"principalId":"AROA`...)
		b = g.upperHex(b, 17)
		b = append(b, ':')
		b = append(b, session...)
		b = append(b, `",`...)
		b = field(b, "arn", "arn:aws:sts::"+account+":assumed-role/"+role+"/"+session)
		b = field(b, "accountId", account)
		b = append(b, `"accessKeyId":"ASIA`...)
		b = g.upperHex(b, 16)
		b = append(b, `","sessionContext":{"sessionIssuer":{`...)
		b = field(b, "type", "Role")
		b = append(b, `"principalId":"AROA`...)
		b = g.upperHex(b, 17)
		b = append(b, `",`...)
		b = field(b, "arn", "arn:aws:iam::"+account+":role/"+role)
		b = field(b, "accountId", account)
		b = jstr(b, "userName")
		b = append(b, ':')
		b = jstr(b, role)
		b = append(b, `},"attributes":{"creationDate":`...)
		b = jstr(b, t.Add(-time.Duration(g.r.IntN(3600))*time.Second).UTC().Format(time.RFC3339))
		b = append(b, `,"mfaAuthenticated":"false"}}},`...)
	}
	b = field(b, "eventTime", ts)
	b = field(b, "eventSource", call.source)
	b = field(b, "eventName", call.name)
	b = field(b, "awsRegion", region)
	ip := pl.ip
	if ip == "" {
		ip = g.p.clientIP()
		if g.r.IntN(4) == 0 {
			ip = g.p.externalIP()
		}
	}
	b = field(b, "sourceIPAddress", ip)
	b = field(b, "userAgent", g.pick(userAgents))
	b = append(b, `"requestParameters":`...)
	b = g.requestParameters(b, call, region, pl.token)
	if call.name == "ConsoleLogin" {
		b = append(b, `,"responseElements":{"ConsoleLogin":"Success"},"additionalEventData":{"LoginTo":"https://console.aws.amazon.com/console/home","MobileVersion":"No","MFAUsed":"Yes"}`...)
	} else {
		b = append(b, `,"responseElements":null`...)
	}
	b = append(b, `,"requestID":"`...)
	b = g.uuid(b)
	b = append(b, `","eventID":"`...)
	b = g.uuid(b)
	b = append(b, `","readOnly":`...)
	b = strconv.AppendBool(b, call.readOnly)
	b = append(b, `,"eventType":"AwsApiCall","managementEvent":`...)
	b = strconv.AppendBool(b, call.category == "Management")
	b = append(b, `,"recipientAccountId":"`...)
	b = append(b, account...)
	b = append(b, `","eventCategory":"`...)
	b = append(b, call.category...)
	b = append(b, `","tlsDetails":{"tlsVersion":"TLSv1.3","cipherSuite":"TLS_AES_128_GCM_SHA256","clientProvidedHostHeader":"`...)
	b = append(b, call.source[:len(call.source)-len(".amazonaws.com")]...)
	b = append(b, '.')
	b = append(b, region...)
	b = append(b, `.amazonaws.com"}}`...)
	return b
}

func (g *Generator) requestParameters(b []byte, call apiCall, region, token string) []byte {
	switch call.source {
	case "s3.amazonaws.com":
		bucket := g.pick(g.p.buckets)
		key := "data/" + strconv.Itoa(2020+g.r.IntN(6)) + "/part-" + string(g.hex(nil, 12)) + ".parquet"
		if token != "" {
			key = "exports/" + token + ".csv"
		}
		b = append(b, '{')
		b = field(b, "bucketName", bucket)
		b = field(b, "Host", bucket+".s3."+region+".amazonaws.com")
		if call.name == "ListObjects" {
			b = jstr(b, "prefix")
			b = append(b, ':')
			return append(jstr(b, "data/"), '}')
		}
		b = jstr(b, "key")
		b = append(b, ':')
		return append(jstr(b, key), '}')
	case "ec2.amazonaws.com":
		b = append(b, `{"instancesSet":{"items":[{"instanceId":"i-0`...)
		b = g.hex(b, 16)
		b = append(b, `"}]},"filterSet":{}}`...)
		return b
	case "iam.amazonaws.com":
		b = append(b, '{')
		b = jstr(b, "userName")
		b = append(b, ':')
		b = jstr(b, g.pick(g.p.people))
		if call.name == "AttachUserPolicy" {
			b = append(b, `,"policyArn":"arn:aws:iam::aws:policy/AdministratorAccess"`...)
		}
		return append(b, '}')
	case "sts.amazonaws.com":
		if call.name == "GetCallerIdentity" {
			return append(b, "null"...)
		}
		b = append(b, `{"roleArn":"arn:aws:iam::`...)
		b = append(b, g.pick(g.p.accounts)...)
		b = append(b, ":role/"...)
		b = append(b, g.pick(g.p.roles)...)
		b = append(b, `","roleSessionName":"`...)
		b = g.hex(b, 16)
		return append(b, `","durationSeconds":3600}`...)
	case "kms.amazonaws.com":
		b = append(b, `{"encryptionAlgorithm":"SYMMETRIC_DEFAULT","keyId":"arn:aws:kms:`...)
		b = append(b, region...)
		b = append(b, ':')
		b = append(b, g.pick(g.p.accounts)...)
		b = append(b, ":key/"...)
		b = g.uuid(b)
		return append(b, `"}`...)
	}
	return append(b, "null"...)
}
