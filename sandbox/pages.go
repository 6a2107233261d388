package sandbox

import (
	"html/template"
	"net/http"
)

// The RdvPermis pages, in French like the real ones. html/template escapes every value, so a
// query string echoed into the form action cannot inject markup.
var pages = template.Must(template.New("layout").Parse(`
{{define "head"}}<!doctype html>
<html lang="fr">
<head><meta charset="utf-8"><title>{{.}} – RdvPermis</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body>{{end}}

{{define "login"}}{{template "head" "Connexion"}}
<main>
<h1>J'ai un compte, je me connecte</h1>
{{if .Error}}<p role="alert" class="erreur">{{.Error}}</p>{{end}}
<form method="post" action="{{.Action}}">
  <p><label for="email">Adresse e-mail</label>
  <input type="email" id="email" name="email" value="{{.Email}}" autocomplete="username" required></p>
  <p><label for="password">Mot de passe</label>
  <input type="password" id="password" name="password" autocomplete="current-password" required></p>
  <p><button type="submit">Je me connecte</button></p>
</form>
</main></body></html>{{end}}

{{define "message"}}{{template "head" .Title}}
<main>
<h1>{{.Title}}</h1>
<p>{{.Text}}</p>
</main></body></html>{{end}}
`))

type loginPage struct {
	Action string // the authorization URL, query kept, the form posts back to
	Email  string
	Error  string
}

type messagePage struct {
	Title string
	Text  string
}

func renderPage(w http.ResponseWriter, status int, name string, data any) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	// The login page must never be cached or framed (it holds a password field).
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Frame-Options", "DENY")
	w.WriteHeader(status)
	_ = pages.ExecuteTemplate(w, name, data)
}
