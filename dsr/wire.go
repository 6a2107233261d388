package dsr

// This file is the whole wire mapping of the DSR contract (docs/dsr.md, "Login: OAuth 2 on a Keycloak realm", "Endpoints"): Keycloak paths,
// API paths, JSON field names, and the conversions to and from the Go types callers use.
// Adapting Livret to the official contract should touch this file only.

import (
	"net/url"
	"slices"
	"time"

	"livret/domain"
)

// Keycloak realm "formation".
const (
	oidcPath   = "/realms/formation/protocol/openid-connect/"
	authPath   = oidcPath + "auth"
	tokenPath  = oidcPath + "token"
	logoutPath = oidcPath + "logout"
)

// DefaultScopes are the scopes the DSR grants a software editor.
var DefaultScopes = []string{"rdvpermis", "livret_numerique:read", "livret_numerique:write", "offline_access"}

// API paths.
const (
	mePath        = "/api/v2/auto-ecole/moi"
	contractsPath = "/api/v1/contrats-formation"
)

func lessonsPath(contractID string) string {
	return contractsPath + "/" + url.PathEscape(contractID) + "/lecons"
}

// CodeContratIntrouvable is the DSR's answer for an unknown contract id.
const CodeContratIntrouvable = domain.CodeContratIntrouvable

// schoolClosed is the DSR's status of a closed school.
const schoolClosed = "fermee"

// isBusinessCode reports whether a DSR error code is a business refusal.
func isBusinessCode(code string) bool {
	c := domain.Code(code)
	return c == CodeContratIntrouvable || slices.Contains(domain.DSRCodes(), c)
}

// wireError is the DSR's error body.
type wireError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// oauthErrorCodes the classification knows (RFC 6749 §5.2).
const (
	oauthInvalidGrant  = "invalid_grant"
	oauthInvalidClient = "invalid_client"
)

type wireMe struct {
	CompteID  string `json:"compte_id"`
	Email     string `json:"email"`
	AutoEcole struct {
		Agrement string `json:"agrement"`
		Nom      string `json:"nom"`
		Statut   string `json:"statut"`
	} `json:"auto_ecole"`
}

func (w wireMe) toMe() Me {
	return Me{AccountID: w.CompteID, Email: w.Email, School: School{
		Agrement: w.AutoEcole.Agrement, Name: w.AutoEcole.Nom, Status: w.AutoEcole.Statut,
	}}
}

type wireContractRequest struct {
	NEPH      string `json:"neph"`
	Nom       string `json:"nom"`
	Prenom    string `json:"prenom"`
	Categorie string `json:"categorie"`
}

func contractToWire(r ContractRequest) wireContractRequest {
	return wireContractRequest{NEPH: r.NEPH, Nom: r.LastName, Prenom: r.FirstName, Categorie: r.Category}
}

type wireContractCreated struct {
	IDContrat string `json:"id_contrat"`
}

type wireContract struct {
	IDContrat string `json:"id_contrat"`
	NEPH      string `json:"neph"`
	Nom       string `json:"nom"`
	Prenom    string `json:"prenom"`
	Categorie string `json:"categorie"`
}

func (w wireContract) toContract() Contract {
	return Contract{ID: w.IDContrat, NEPH: w.NEPH, LastName: w.Nom, FirstName: w.Prenom, Category: w.Categorie}
}

// findContractsQuery is the query of the contract search.
func findContractsQuery(neph string) url.Values { return url.Values{"neph": {neph}} }

type wireLessonRequest struct {
	Debut                       string `json:"debut"`
	Fin                         string `json:"fin"`
	Type                        string `json:"type"`
	NumeroAutorisationFormateur string `json:"numero_autorisation_formateur"`
	NomFormateur                string `json:"nom_formateur"`
	PrenomFormateur             string `json:"prenom_formateur"`
}

func lessonToWire(r LessonRequest) wireLessonRequest {
	return wireLessonRequest{
		Debut: wireTime(r.Start), Fin: wireTime(r.End), Type: r.Type,
		NumeroAutorisationFormateur: r.AuthorizationNumber,
		NomFormateur:                r.InstructorLastName, PrenomFormateur: r.InstructorFirstName,
	}
}

type wireLessonCreated struct {
	IDLecon string `json:"id_lecon"`
}

type wireLesson struct {
	IDLecon                     string `json:"id_lecon"`
	Debut                       string `json:"debut"`
	Fin                         string `json:"fin"`
	Type                        string `json:"type"`
	NumeroAutorisationFormateur string `json:"numero_autorisation_formateur"`
}

func (w wireLesson) toLesson() (Lesson, error) {
	start, err := time.Parse(time.RFC3339, w.Debut)
	if err != nil {
		return Lesson{}, err
	}
	end, err := time.Parse(time.RFC3339, w.Fin)
	if err != nil {
		return Lesson{}, err
	}
	return Lesson{ID: w.IDLecon, Start: start, End: end, Type: w.Type, AuthorizationNumber: w.NumeroAutorisationFormateur}, nil
}

// listLessonsQuery is the query of the lesson list: Paris calendar days, inclusive.
func listLessonsQuery(from, to time.Time) url.Values {
	return url.Values{"du": {domain.BusinessDate(from)}, "au": {domain.BusinessDate(to)}}
}

// wireTime is a time as the DSR wants it: ISO 8601 with offset, French local time, to the second.
func wireTime(t time.Time) string { return t.In(domain.Paris).Format(time.RFC3339) }
