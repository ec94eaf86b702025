package cloudtrail

// This file reads the documented CloudTrail shapes with the scanner: each
// member function consumes one key's value, reading what is mapped and
// skipping the rest. Names are matched exactly, as CloudTrail writes them.

// envelope is every top-level shape at once: a record's own fields, a
// Records file's list, an EventBridge event's detail, a digest's marker.
type envelope struct {
	record
	hasRecords bool
	Records    []string // each element's JSON text
	DetailType string
	Detail     string // the detail's JSON text
	Account    string
	Region     string
	Time       string

	DigestStartTime string
	DigestS3Object  string
}

func (env *envelope) member(sc *scanner, key string) {
	switch key {
	case "Records":
		if sc.peek() != '[' {
			sc.skip()
			return
		}
		env.hasRecords = true
		sc.elements(func() { env.Records = append(env.Records, sc.raw()) })
	case "detail-type":
		env.DetailType = sc.text()
	case "detail":
		env.Detail = sc.raw()
	case "account":
		env.Account = sc.text()
	case "region":
		env.Region = sc.text()
	case "time":
		env.Time = sc.text()
	case "digestStartTime":
		env.DigestStartTime = sc.text()
	case "digestS3Object":
		env.DigestS3Object = sc.text()
	default:
		env.record.member(sc, key)
	}
}

// decodeRecord reads one record object.
func decodeRecord(s string) (record, error) {
	var r record
	sc := scanner{s: s}
	sc.object(func(key string) { r.member(&sc, key) })
	if sc.err == nil && sc.more() {
		sc.fail("data after the record")
	}
	return r, sc.err
}

func (r *record) member(sc *scanner, key string) {
	switch key {
	case "eventVersion":
		r.EventVersion = sc.text()
	case "userIdentity":
		if sc.peek() != '{' {
			sc.skip()
			return
		}
		u := &userIdentity{}
		sc.members(func(k string) { u.member(sc, k) })
		r.UserIdentity = u
	case "eventTime":
		r.EventTime = sc.text()
	case "eventSource":
		r.EventSource = sc.text()
	case "eventName":
		r.EventName = sc.text()
	case "awsRegion":
		r.AWSRegion = sc.text()
	case "sourceIPAddress":
		r.SourceIPAddress = sc.text()
	case "userAgent":
		r.UserAgent = sc.text()
	case "errorCode":
		r.ErrorCode = sc.text()
	case "errorMessage":
		r.ErrorMessage = sc.text()
	case "requestParameters":
		r.RequestParameters = sc.raw()
	case "responseElements":
		r.ResponseElements = sc.raw()
	case "additionalEventData":
		r.AdditionalEventData = sc.raw()
	case "serviceEventDetails":
		r.ServiceEventDetails = sc.raw()
	case "insightDetails":
		r.InsightDetails = sc.raw()
	case "requestID":
		r.RequestID = sc.text()
	case "eventID":
		r.EventID = sc.text()
	case "eventType":
		r.EventType = sc.text()
	case "apiVersion":
		r.APIVersion = sc.text()
	case "managementEvent":
		r.ManagementEvent = sc.flag()
	case "readOnly":
		r.ReadOnly = sc.flag()
	case "resources":
		sc.elements(func() {
			if sc.peek() != '{' {
				sc.skip()
				return
			}
			var res resource
			sc.members(func(k string) { res.member(sc, k) })
			r.Resources = append(r.Resources, res)
		})
	case "recipientAccountId":
		r.RecipientAccountID = sc.text()
	case "sharedEventID":
		r.SharedEventID = sc.text()
	case "vpcEndpointId":
		r.VPCEndpointID = sc.text()
	case "eventCategory":
		r.EventCategory = sc.text()
	case "tlsDetails":
		if sc.peek() != '{' {
			sc.skip()
			return
		}
		t := &tlsDetails{}
		sc.members(func(k string) {
			switch k {
			case "tlsVersion":
				t.TLSVersion = sc.text()
			case "cipherSuite":
				t.CipherSuite = sc.text()
			case "clientProvidedHostHeader":
				t.ClientProvidedHostHeader = sc.text()
			default:
				sc.skip()
			}
		})
		r.TLSDetails = t
	case "sessionCredentialFromConsole":
		r.ConsoleCredential = sc.flag()
	default:
		sc.skip()
	}
}

func (res *resource) member(sc *scanner, key string) {
	switch key {
	case "ARN":
		res.ARN = sc.text()
	case "accountId":
		res.AccountID = sc.text()
	case "type":
		res.Type = sc.text()
	default:
		sc.skip()
	}
}

func (u *userIdentity) member(sc *scanner, key string) {
	switch key {
	case "type":
		u.Type = sc.text()
	case "principalId":
		u.PrincipalID = sc.text()
	case "arn":
		u.ARN = sc.text()
	case "accountId":
		u.AccountID = sc.text()
	case "accessKeyId":
		u.AccessKeyID = sc.text()
	case "userName":
		u.UserName = sc.text()
	case "invokedBy":
		u.InvokedBy = sc.text()
	case "identityProvider":
		u.IdentityProvider = sc.text()
	case "credentialId":
		u.CredentialID = sc.text()
	case "sessionContext":
		if sc.peek() != '{' {
			sc.skip()
			return
		}
		c := &sessionContext{}
		sc.members(func(k string) { c.member(sc, k) })
		u.SessionContext = c
	case "onBehalfOf":
		sc.members(func(k string) {
			switch k {
			case "userId":
				u.OnBehalfOf.UserID = sc.text()
			case "identityStoreArn":
				u.OnBehalfOf.IdentityStoreARN = sc.text()
			default:
				sc.skip()
			}
		})
	default:
		sc.skip()
	}
}

func (c *sessionContext) member(sc *scanner, key string) {
	switch key {
	case "attributes":
		sc.members(func(k string) {
			switch k {
			case "mfaAuthenticated":
				c.MFAAuthenticated = sc.text()
			case "creationDate":
				c.CreationDate = sc.text()
			default:
				sc.skip()
			}
		})
	case "sessionIssuer":
		si := &c.SessionIssuer
		sc.members(func(k string) {
			switch k {
			case "type":
				si.Type = sc.text()
			case "principalId":
				si.PrincipalID = sc.text()
			case "arn":
				si.ARN = sc.text()
			case "accountId":
				si.AccountID = sc.text()
			case "userName":
				si.UserName = sc.text()
			default:
				sc.skip()
			}
		})
	case "webIdFederationData":
		sc.members(func(k string) {
			if k == "federatedProvider" {
				c.FederatedProvider = sc.text()
				return
			}
			sc.skip()
		})
	case "sourceIdentity":
		c.SourceIdentity = sc.text()
	case "ec2RoleDelivery":
		c.EC2RoleDelivery = sc.text()
	default:
		sc.skip()
	}
}
