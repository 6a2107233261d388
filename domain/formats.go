package domain

import (
	"net/mail"
	"strings"
)

// GenericSimulatorAuthorization is the number the DSR accepts for a simulator lesson taken
// without an instructor (docs/rules.md, "What is sent", rule 4): an instructor record named "Simulateur" carries it.
const GenericSimulatorAuthorization = "A0000000000"

// NormalizeNEPH returns the NEPH (numéro d'enregistrement préfectoral harmonisé) as the DSR
// wants it: 12 digits, kept as text because leading zeros matter. Spaces are ignored.
func NormalizeNEPH(raw string) (string, bool) {
	s := stripSeparators(raw, " ")
	if len(s) != 12 || !allDigits(s) {
		return s, false
	}
	return s, true
}

// NormalizeAuthorization returns a teaching authorisation number ("N° d'autorisation
// d'enseigner") in the DSR's format: "A" followed by 10 digits. Schools type it with spaces
// and dots ("A 12.345.678.90"), which are removed; a lower-case "a" is accepted.
func NormalizeAuthorization(raw string) (string, bool) {
	s := strings.ToUpper(stripSeparators(raw, " .\u00a0"))
	if len(s) != 11 || s[0] != 'A' || !allDigits(s[1:]) {
		return s, false
	}
	return s, true
}

// NormalizeAgrement returns a school's agreement number: "E" followed by 10 digits.
func NormalizeAgrement(raw string) (string, bool) {
	s := strings.ToUpper(stripSeparators(raw, " .\u00a0"))
	if len(s) != 11 || s[0] != 'E' || !allDigits(s[1:]) {
		return s, false
	}
	return s, true
}

func stripSeparators(s, seps string) string {
	return strings.Map(func(r rune) rune {
		if strings.ContainsRune(seps, r) {
			return -1
		}
		return r
	}, strings.TrimSpace(s))
}

func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// MaxAlertEmails bounds a school's alert addresses (PATCH /v1/school, alert_emails).
const MaxAlertEmails = 10

// NormalizeEmail returns an e-mail address as Livret keeps it: the bare address (a display
// name such as "Jean <jean@ecole.fr>" is dropped), lower-cased. It must be one address
// that net/mail reads, of at most 254 characters, whose domain has a dot.
func NormalizeEmail(raw string) (string, bool) {
	s := strings.TrimSpace(raw)
	if s == "" || len(s) > 320 {
		return s, false
	}
	a, err := mail.ParseAddress(s)
	if err != nil {
		return s, false
	}
	addr := strings.ToLower(a.Address)
	at := strings.LastIndexByte(addr, '@')
	if at <= 0 || len(addr) > 254 {
		return s, false
	}
	domain := addr[at+1:]
	if !strings.Contains(domain, ".") || strings.HasPrefix(domain, ".") || strings.HasSuffix(domain, ".") ||
		strings.Contains(domain, "..") || strings.ContainsAny(domain, "[]") {
		return s, false
	}
	return addr, true
}
