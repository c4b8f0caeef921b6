package demoapp

import "strings"

// deviceName derives a short device name such as "Firefox on Linux" from a
// User-Agent header, for the devices page. It keeps no more of the header
// than the two names: the raw string identifies a browser too precisely to
// be worth storing.
func deviceName(ua string) string {
	browser := firstMatch(ua, browsers)
	platform := firstMatch(ua, platforms)
	switch {
	case browser == "" && platform == "":
		return "Unknown device"
	case browser == "":
		return "A browser on " + platform
	case platform == "":
		return browser
	}
	return browser + " on " + platform
}

// match names what a User-Agent containing token is.
type match struct{ token, name string }

// browsers in the order to test them: many User-Agents name several (Edge
// says Chrome and Safari too).
var browsers = []match{
	{"HeadlessChrome/", "Headless Chrome"},
	{"Edg", "Edge"},
	{"OPR/", "Opera"},
	{"Firefox/", "Firefox"},
	{"FxiOS/", "Firefox"},
	{"Chromium/", "Chromium"},
	{"CriOS/", "Chrome"},
	{"Chrome/", "Chrome"},
	{"Safari/", "Safari"},
	{"curl/", "curl"},
	{"Go-http-client/", "Go"},
}

var platforms = []match{
	{"iPhone", "iPhone"},
	{"iPad", "iPad"},
	{"Android", "Android"},
	{"CrOS", "ChromeOS"},
	{"Windows", "Windows"},
	{"Macintosh", "macOS"},
	{"Linux", "Linux"},
}

// firstMatch names the first entry of list whose token ua contains, or "".
func firstMatch(ua string, list []match) string {
	for _, m := range list {
		if strings.Contains(ua, m.token) {
			return m.name
		}
	}
	return ""
}
