package cef

import "iter"

// FullName returns the CEF dictionary's full name for an extension key
// ("src" → "sourceAddress", "cs1Label" → "deviceCustomString1Label"). Keys
// that are already full names, and vendor keys the dictionary does not
// define, are returned unchanged.
func FullName(key string) string {
	if full, ok := shortToFull[key]; ok {
		return full
	}
	return key
}

// Dictionary yields every short key of the CEF dictionary with its full
// name.
func Dictionary() iter.Seq2[string, string] {
	return func(yield func(short, full string) bool) {
		for short, full := range shortToFull {
			if !yield(short, full) {
				return
			}
		}
	}
}

// Type is the data type the CEF dictionary gives an extension.
type Type uint8

// Extension value types.
const (
	TypeString Type = iota
	TypeInteger
	TypeIP
	TypeMAC
	TypeTime
	TypeFloat
)

// TypeOf returns the dictionary type of a full extension name (TypeString
// for names it does not know).
func TypeOf(fullName string) Type {
	return types[fullName]
}

// shortToFull is the key-name table of the ArcSight CEF dictionary.
var shortToFull = map[string]string{
	"act":       "deviceAction",
	"app":       "applicationProtocol",
	"c6a1":      "deviceCustomIPv6Address1",
	"c6a1Label": "deviceCustomIPv6Address1Label",
	"c6a2":      "deviceCustomIPv6Address2",
	"c6a2Label": "deviceCustomIPv6Address2Label",
	"c6a3":      "deviceCustomIPv6Address3",
	"c6a3Label": "deviceCustomIPv6Address3Label",
	"c6a4":      "deviceCustomIPv6Address4",
	"c6a4Label": "deviceCustomIPv6Address4Label",
	"cat":       "deviceEventCategory",
	"cfp1":      "deviceCustomFloatingPoint1",
	"cfp1Label": "deviceCustomFloatingPoint1Label",
	"cfp2":      "deviceCustomFloatingPoint2",
	"cfp2Label": "deviceCustomFloatingPoint2Label",
	"cfp3":      "deviceCustomFloatingPoint3",
	"cfp3Label": "deviceCustomFloatingPoint3Label",
	"cfp4":      "deviceCustomFloatingPoint4",
	"cfp4Label": "deviceCustomFloatingPoint4Label",
	"cn1":       "deviceCustomNumber1",
	"cn1Label":  "deviceCustomNumber1Label",
	"cn2":       "deviceCustomNumber2",
	"cn2Label":  "deviceCustomNumber2Label",
	"cn3":       "deviceCustomNumber3",
	"cn3Label":  "deviceCustomNumber3Label",
	"cnt":       "baseEventCount",
	"cs1":       "deviceCustomString1",
	"cs1Label":  "deviceCustomString1Label",
	"cs2":       "deviceCustomString2",
	"cs2Label":  "deviceCustomString2Label",
	"cs3":       "deviceCustomString3",
	"cs3Label":  "deviceCustomString3Label",
	"cs4":       "deviceCustomString4",
	"cs4Label":  "deviceCustomString4Label",
	"cs5":       "deviceCustomString5",
	"cs5Label":  "deviceCustomString5Label",
	"cs6":       "deviceCustomString6",
	"cs6Label":  "deviceCustomString6Label",
	"dhost":     "destinationHostName",
	"dlat":      "destinationGeoLatitude",
	"dlong":     "destinationGeoLongitude",
	"dmac":      "destinationMacAddress",
	"dntdom":    "destinationNtDomain",
	"dpid":      "destinationProcessId",
	"dpriv":     "destinationUserPrivileges",
	"dproc":     "destinationProcessName",
	"dpt":       "destinationPort",
	"dst":       "destinationAddress",
	"dtz":       "deviceTimeZone",
	"duid":      "destinationUserId",
	"duser":     "destinationUserName",
	"dvc":       "deviceAddress",
	"dvchost":   "deviceHostName",
	"dvcmac":    "deviceMacAddress",
	"dvcpid":    "deviceProcessId",
	"end":       "endTime",
	"fname":     "fileName",
	"fsize":     "fileSize",
	"in":        "bytesIn",
	"msg":       "message",
	"out":       "bytesOut",
	"outcome":   "eventOutcome",
	"proto":     "transportProtocol",
	"request":   "requestUrl",
	"rt":        "deviceReceiptTime",
	"shost":     "sourceHostName",
	"slat":      "sourceGeoLatitude",
	"slong":     "sourceGeoLongitude",
	"smac":      "sourceMacAddress",
	"sntdom":    "sourceNtDomain",
	"spid":      "sourceProcessId",
	"spriv":     "sourceUserPrivileges",
	"sproc":     "sourceProcessName",
	"spt":       "sourcePort",
	"src":       "sourceAddress",
	"start":     "startTime",
	"suid":      "sourceUserId",
	"suser":     "sourceUserName",
	"agt":       "agentAddress",
	"ahost":     "agentHostName",
	"aid":       "agentId",
	"amac":      "agentMacAddress",
	"art":       "agentReceiptTime",
	"at":        "agentType",
	"atz":       "agentTimeZone",
	"av":        "agentVersion",
}

var types = map[string]Type{
	"baseEventCount":               TypeInteger,
	"bytesIn":                      TypeInteger,
	"bytesOut":                     TypeInteger,
	"destinationPort":              TypeInteger,
	"destinationProcessId":         TypeInteger,
	"destinationTranslatedPort":    TypeInteger,
	"deviceCustomNumber1":          TypeInteger,
	"deviceCustomNumber2":          TypeInteger,
	"deviceCustomNumber3":          TypeInteger,
	"deviceDirection":              TypeInteger,
	"deviceProcessId":              TypeInteger,
	"fileSize":                     TypeInteger,
	"oldFileSize":                  TypeInteger,
	"sourcePort":                   TypeInteger,
	"sourceProcessId":              TypeInteger,
	"sourceTranslatedPort":         TypeInteger,
	"agentAddress":                 TypeIP,
	"destinationAddress":           TypeIP,
	"destinationTranslatedAddress": TypeIP,
	"deviceAddress":                TypeIP,
	"deviceTranslatedAddress":      TypeIP,
	"sourceAddress":                TypeIP,
	"sourceTranslatedAddress":      TypeIP,
	"deviceCustomIPv6Address1":     TypeIP,
	"deviceCustomIPv6Address2":     TypeIP,
	"deviceCustomIPv6Address3":     TypeIP,
	"deviceCustomIPv6Address4":     TypeIP,
	"agentMacAddress":              TypeMAC,
	"destinationMacAddress":        TypeMAC,
	"deviceMacAddress":             TypeMAC,
	"sourceMacAddress":             TypeMAC,
	"agentReceiptTime":             TypeTime,
	"deviceCustomDate1":            TypeTime,
	"deviceCustomDate2":            TypeTime,
	"deviceReceiptTime":            TypeTime,
	"endTime":                      TypeTime,
	"fileCreateTime":               TypeTime,
	"fileModificationTime":         TypeTime,
	"flexDate1":                    TypeTime,
	"oldFileCreateTime":            TypeTime,
	"oldFileModificationTime":      TypeTime,
	"startTime":                    TypeTime,
	"deviceCustomFloatingPoint1":   TypeFloat,
	"deviceCustomFloatingPoint2":   TypeFloat,
	"deviceCustomFloatingPoint3":   TypeFloat,
	"deviceCustomFloatingPoint4":   TypeFloat,
	"destinationGeoLatitude":       TypeFloat,
	"destinationGeoLongitude":      TypeFloat,
	"sourceGeoLatitude":            TypeFloat,
	"sourceGeoLongitude":           TypeFloat,
}
