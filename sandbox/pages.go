package sandbox

import (
	"html/template"
	"net/http"
)

// The RdvPermis pages, in French like the real ones, under a banner that says they are a
// stand-in (a person who lands there must not take it for the real site and type their real
// password). Styled inline: the sandbox serves no other file. html/template escapes every
// value, so a query string echoed into the form action cannot inject markup.
var pages = template.Must(template.New("layout").Parse(`
{{define "head"}}<!doctype html>
<html lang="fr">
<head><meta charset="utf-8"><title>{{.}} – RdvPermis (bac à sable)</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
*, *::before, *::after { box-sizing: border-box; }
html { font-family: system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif; color: #1e1e1e; background: #f6f6f6; }
body { margin: 0; line-height: 1.5; }
.sandbox { margin: 0; padding: .75rem 1rem; background: #ffe552; color: #1e1e1e; border-bottom: 3px dashed #1e1e1e; font-weight: 600; text-align: center; }
header { padding: .75rem 1rem; background: #000091; color: #fff; font-weight: 700; font-size: 1.2rem; }
header small { font-weight: 400; font-size: .9rem; }
main { max-width: 28rem; margin: 2rem auto; padding: 1.5rem; background: #fff; border: 1px solid #ddd; border-radius: 4px; }
h1 { font-size: 1.4rem; margin: 0 0 1rem; }
label { display: block; font-weight: 600; margin-bottom: .25rem; }
input { width: 100%; font: inherit; padding: .5rem; border: 1px solid #666; border-radius: 4px; }
input:focus-visible, button:focus-visible { outline: 3px solid #0a76f6; outline-offset: 2px; }
button { font: inherit; font-weight: 700; text-transform: uppercase; padding: .6rem 1.2rem; border: none; border-radius: 4px; background: #000091; color: #fff; cursor: pointer; }
.erreur { color: #ce0500; background: #ffe9e9; border-left: 4px solid #ce0500; padding: .5rem .75rem; }
</style></head>
<body>
<p class="sandbox" role="note">Bac à sable : ceci imite la page de connexion de RdvPermis, ce n'est pas le vrai site. N'y saisissez pas les identifiants de votre vrai compte RdvPermis.</p>
<header>RdvPermis <small>– imitation pour les tests et la démonstration</small></header>
{{end}}

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
