package webapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strings"

	"github.com/gin-gonic/gin"

	"livret/school"
)

// decodeStrict reads the request body as exactly one JSON object into dst, refusing what
// encoding/json would let through: unknown fields, fields whose case differs from the
// documented name (encoding/json matches case-insensitively), and data after the object.
// Every refusal is a 400 (413 for an oversize body) naming the field in French.
func decodeStrict(c *gin.Context, dst any) error {
	data, err := readBody(c)
	if err != nil {
		return err
	}
	return decodeStrictBytes(data, dst)
}

// readBody reads the whole request body, refusing an empty or oversize one.
func readBody(c *gin.Context) ([]byte, error) {
	if c.Request.Body == nil {
		return nil, badRequest("Le corps de la requête est vide : un objet JSON est attendu.")
	}
	data, err := io.ReadAll(c.Request.Body)
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return nil, tooLargeProblem(tooLarge.Limit)
		}
		return nil, badRequest("Le corps de la requête n'a pas pu être lu.")
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, badRequest("Le corps de la requête est vide : un objet JSON est attendu.")
	}
	return data, nil
}

// decodeStrictBytes is decodeStrict's check of one JSON object, whatever it came in: a
// request body, or one item of a batch (without its ref).
func decodeStrictBytes(data []byte, dst any) error {
	// First pass: one JSON object, nothing after it, only known fields spelled exactly.
	var raw map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&raw); err != nil {
		return syntaxProblem(err)
	}
	if raw == nil { // the literal null
		return badRequest("Le corps de la requête doit être un objet JSON.")
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return badRequest("Le corps de la requête contient des données après l'objet JSON.")
	}
	known := jsonFieldNames(dst)
	var unknown []FieldError
	for name := range raw {
		if !known[name] {
			unknown = append(unknown, FieldError{Field: name, Message: "Champ inconnu."})
		}
	}
	if len(unknown) > 0 {
		school.SortFieldErrors(unknown)
		return badRequest("La requête contient des champs inconnus.", unknown...)
	}

	// Second pass: the types.
	dec = json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) && typeErr.Field != "" {
			return badRequest("Un champ n'a pas le type attendu.",
				FieldError{Field: typeErr.Field, Message: "Type invalide : " + frenchType(typeErr.Type) + " attendu."})
		}
		return syntaxProblem(err)
	}
	return nil
}

func syntaxProblem(err error) *Problem {
	var syntax *json.SyntaxError
	var typeErr *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syntax):
		return badRequest(fmt.Sprintf("JSON mal formé (position %d).", syntax.Offset))
	case errors.Is(err, io.ErrUnexpectedEOF):
		return badRequest("JSON mal formé : le corps s'arrête avant la fin de l'objet.")
	case errors.As(err, &typeErr):
		return badRequest("Le corps de la requête doit être un objet JSON.")
	}
	return badRequest("JSON illisible.")
}

// jsonFieldNames lists the JSON names of a struct's fields.
func jsonFieldNames(v any) map[string]bool {
	t := reflect.TypeOf(v)
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	names := map[string]bool{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" || !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		names[name] = true
	}
	return names
}

func frenchType(t reflect.Type) string {
	if t == nil {
		return "une autre valeur"
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.String:
		return "une chaîne de caractères"
	case reflect.Bool:
		return "un booléen (true ou false)"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "un nombre entier"
	case reflect.Float32, reflect.Float64:
		return "un nombre"
	case reflect.Struct, reflect.Map:
		return "un objet"
	case reflect.Slice, reflect.Array:
		return "une liste"
	}
	return "une autre valeur"
}
