package sandbox

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"
)

// maxBodyBytes bounds every request body: the largest legitimate one is a lesson, well under 1 KiB.
const maxBodyBytes = 64 << 10

// errorBody is the DSR's error shape.
type errorBody struct {
	Code    Code   `json:"code"`
	Message string `json:"message"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// writeCode answers a catalogued code with its status and exact French message.
func writeCode(w http.ResponseWriter, code Code) {
	e, ok := catalogue[code]
	if !ok {
		// A programming error: every code the sandbox answers is catalogued.
		panic("sandbox: code outside the catalogue: " + string(code))
	}
	writeJSON(w, e.status, errorBody{code, e.message})
}

// badRequest is a malformed request: 400 REQUETE_INVALIDE with a French sentence naming the field.
type badRequest struct{ message string }

func (e *badRequest) Error() string { return e.message }

func badRequestf(format string, args ...any) *badRequest {
	return &badRequest{fmt.Sprintf(format, args...)}
}

func writeBadRequest(w http.ResponseWriter, err error) {
	var br *badRequest
	msg := "La requête est invalide."
	if errors.As(err, &br) {
		msg = br.message
	}
	writeJSON(w, http.StatusBadRequest, errorBody{CodeRequeteInvalide, msg})
}

// field is one member of a JSON object a handler accepts. dst is a *string, *[]string, *int,
// *float64 or *time.Time (an RFC 3339 date-time with offset).
type field struct {
	name     string
	required bool
	dst      any
}

// decodeObject reads a JSON object with exactly the given members. It does its own member
// checks rather than parse encoding/json's error strings, so every refusal is a clear French
// sentence naming the field, whatever the JSON implementation says.
func decodeObject(w http.ResponseWriter, r *http.Request, fields ...field) error {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBodyBytes))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return badRequestf("Le corps de la requête est trop volumineux (%d octets au plus).", maxBodyBytes)
		}
		return badRequestf("Le corps de la requête n'a pas pu être lu.")
	}
	return decodeObjectBytes(body, fields...)
}

func decodeObjectBytes(body []byte, fields ...field) error {
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 {
		return badRequestf("Le corps de la requête est vide : un objet JSON est attendu.")
	}
	if !json.Valid(trimmed) {
		return badRequestf("Le corps de la requête n'est pas un JSON valide.")
	}
	if trimmed[0] != '{' {
		return badRequestf("Le corps de la requête doit être un objet JSON.")
	}
	var members map[string]json.RawMessage
	if err := json.Unmarshal(trimmed, &members); err != nil {
		return badRequestf("Le corps de la requête n'est pas un JSON valide.")
	}
	known := make(map[string]bool, len(fields))
	for _, f := range fields {
		known[f.name] = true
	}
	var unknown []string
	for name := range members {
		if !known[name] {
			unknown = append(unknown, name)
		}
	}
	if len(unknown) > 0 {
		slices.Sort(unknown)
		return badRequestf("Le champ « %s » n'est pas connu.", unknown[0])
	}
	for _, f := range fields {
		raw, present := members[f.name]
		if !present || string(raw) == "null" {
			if f.required {
				return badRequestf("Le champ « %s » est obligatoire.", f.name)
			}
			continue
		}
		if err := decodeMember(raw, f); err != nil {
			return err
		}
	}
	return nil
}

func decodeMember(raw json.RawMessage, f field) error {
	switch dst := f.dst.(type) {
	case *time.Time:
		var s string
		if json.Unmarshal(raw, &s) != nil {
			return badRequestf("Le champ « %s » doit être une chaîne de caractères (date et heure RFC 3339).", f.name)
		}
		t, err := time.Parse(time.RFC3339, s)
		if err != nil {
			return badRequestf("Le champ « %s » doit être une date et heure avec décalage horaire, par exemple 2021-12-09T15:00:00+01:00.", f.name)
		}
		*dst = t
		return nil
	case *string:
		if json.Unmarshal(raw, dst) != nil {
			return badRequestf("Le champ « %s » doit être une chaîne de caractères.", f.name)
		}
	case *[]string:
		if json.Unmarshal(raw, dst) != nil {
			return badRequestf("Le champ « %s » doit être une liste de chaînes de caractères.", f.name)
		}
	case *int:
		if json.Unmarshal(raw, dst) != nil {
			return badRequestf("Le champ « %s » doit être un nombre entier.", f.name)
		}
	case *float64:
		if json.Unmarshal(raw, dst) != nil {
			return badRequestf("Le champ « %s » doit être un nombre.", f.name)
		}
	default:
		panic(fmt.Sprintf("sandbox: unsupported field type %T", f.dst))
	}
	return nil
}

// requiredQuery reads a query parameter that must be present and non-empty.
func requiredQuery(r *http.Request, name string) (string, error) {
	v := strings.TrimSpace(r.URL.Query().Get(name))
	if v == "" {
		return "", badRequestf("Le paramètre « %s » est obligatoire.", name)
	}
	return v, nil
}
