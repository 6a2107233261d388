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
	"unicode/utf8"

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
	if err := checkJSONText(data); err != nil {
		return err
	}
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

// jsonFrame is one open object or array while checkJSONText walks a document.
type jsonFrame struct {
	object  bool
	keys    map[string]bool // an object's keys so far
	key     string          // the object's current key
	wantKey bool            // the object's next token is a key (or its end)
	index   int             // the array's current index
}

// checkJSONText refuses what encoding/json accepts silently although it means nothing
// (issue 18's probe): a key twice in one object (the last would win, unseen), and a string
// that is not valid UTF-8, which encoding/json stores as U+FFFD (a lone surrogate escape
// such as \ud800 too). A literal U+FFFD is refused the same way: no name or text holds one
// on purpose. The field is named by its path ("lessons[2].start").
func checkJSONText(data []byte) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var stack []jsonFrame
	path := func() string {
		var b strings.Builder
		for _, f := range stack {
			if f.object {
				if b.Len() > 0 {
					b.WriteByte('.')
				}
				b.WriteString(f.key)
			} else {
				fmt.Fprintf(&b, "[%d]", f.index)
			}
		}
		return b.String()
	}
	for {
		tok, err := dec.Token()
		if err != nil {
			// The end, or malformed JSON: the decoding that follows names the latter.
			return nil
		}
		if n := len(stack); n > 0 && stack[n-1].wantKey {
			top := &stack[n-1]
			if d, ok := tok.(json.Delim); ok && d == '}' {
				stack = stack[:n-1]
				valueEnded(stack)
				continue
			}
			key, _ := tok.(string)
			top.key, top.wantKey = key, false
			if strings.ContainsRune(key, utf8.RuneError) {
				return badRequest("Un nom de champ n'est pas de l'UTF-8 valide.", FieldError{Field: path(), Message: "Nom de champ illisible : encodage UTF-8 attendu."})
			}
			if top.keys[key] {
				return badRequest("Un champ apparaît deux fois dans le même objet JSON.", FieldError{Field: path(), Message: "Champ en double."})
			}
			top.keys[key] = true
			continue
		}
		switch v := tok.(type) {
		case json.Delim:
			switch v {
			case '{':
				stack = append(stack, jsonFrame{object: true, keys: map[string]bool{}, wantKey: true})
				continue
			case '[':
				stack = append(stack, jsonFrame{})
				continue
			case ']':
				stack = stack[:len(stack)-1]
			}
		case string:
			if strings.ContainsRune(v, utf8.RuneError) {
				return badRequest("Un texte n'est pas de l'UTF-8 valide.", FieldError{Field: path(), Message: "Texte illisible : encodage UTF-8 attendu (caractère invalide ou remplacé par U+FFFD)."})
			}
		}
		valueEnded(stack)
	}
}

// valueEnded moves the innermost frame past a value: an object waits for its next key, an
// array moves to its next index.
func valueEnded(stack []jsonFrame) {
	if n := len(stack); n > 0 {
		if stack[n-1].object {
			stack[n-1].wantKey = true
		} else {
			stack[n-1].index++
		}
	}
}
