package webapi_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"livret/domain"
	livschool "livret/school"
)

// TestBrowserRoles: in headless Chromium, each role signs in with its e-mail and password on
// the sign-in form, walks every entry of its menu by clicking it, sees what the one policy
// table lets it see (the menu, the office cards, the action buttons), and signs out.
func TestBrowserRoles(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := linkedSchool(e)
	e.put(a.Key, "/v1/offices/roche", map[string]any{"name": "Agence de La Roche"}).want(t, http.StatusCreated)
	seedPeople(e, a.Key, officeLauriane)
	seedLessons(e, a.Key, officeLauriane)
	ctx := newChromium(t)
	sc, err := e.srv.School.Authenticate(context.Background(), a.Key)
	must(t, err)

	menu := map[string]domain.Permission{ // menu entry → the permission it needs
		"L'API Livret numérique": domain.PermRead, "Leçons envoyées": domain.PermRead, "ETP": domain.PermRead,
		"Paramètres": domain.PermSettingsRead, "Journal": domain.PermAudit, "Personnes": domain.PermPeople,
		"Clés d'API": domain.PermKeys, "Aide": "",
	}
	for _, role := range domain.Roles {
		email, password := fmt.Sprintf("%s@lauriane.fr", role), "le mot de passe de "+string(role)
		in := livschool.PersonInput{Email: email, Role: string(role)}
		if role == domain.RoleBureau {
			in.OfficeRefs = []string{officeLauriane}
		}
		_, err := e.srv.School.AddPerson(context.Background(), sc, in, password)
		must(t, err)

		run(t, ctx, "sign in as "+string(role),
			chromedp.Navigate(e.api.URL+"/ui/login"),
			chromedp.WaitVisible("#email", chromedp.ByQuery),
			chromedp.SendKeys("#email", email, chromedp.ByQuery),
			chromedp.SendKeys("#password", password, chromedp.ByQuery),
			chromedp.Click(`form[action="/ui/login"] button[type=submit]`, chromedp.ByQuery),
		)
		waitURL(t, ctx, "/ui/offices")
		text := bodyText(t, ctx)
		if !strings.Contains(text, "Connecté : "+email) {
			t.Fatalf("%s: the header does not say who is signed in:\n%s", role, text)
		}
		// The office cards: bureau sees its office only.
		if !strings.Contains(text, "AE LAURIANE") {
			t.Errorf("%s does not see its office", role)
		}
		if seesRoche := strings.Contains(text, "Agence de La Roche"); seesRoche == role.OfficeScoped() {
			t.Errorf("%s sees the other office: %v", role, seesRoche)
		}
		// The unlink button follows the link permission.
		var unlink int
		run(t, ctx, "count unlink links", chromedp.Evaluate(`document.querySelectorAll('a[href$="/disconnect"]').length`, &unlink))
		if (unlink > 0) != (domain.AccessOf(role, domain.PermLink) == domain.Allowed) {
			t.Errorf("%s: %d unlink links", role, unlink)
		}

		for entry, perm := range menu {
			var n int
			run(t, ctx, string(role)+" menu "+entry, chromedp.Evaluate(
				fmt.Sprintf(`[...document.querySelectorAll('nav a')].filter(a => a.textContent.trim() === %q).length`, entry), &n))
			want := perm == "" || domain.AccessOf(role, perm) == domain.Allowed
			if (n == 1) != want {
				t.Errorf("%s: menu entry %q shown %d times, want shown=%v", role, entry, n, want)
			}
			if n != 1 {
				continue
			}
			// Walk it: click, and the page opened is the one of the entry (aria-current).
			run(t, ctx, string(role)+" opens "+entry,
				chromedp.Click(fmt.Sprintf(`//nav/a[normalize-space(.)=%q]`, entry), chromedp.BySearch),
				chromedp.WaitVisible(fmt.Sprintf(`//nav/a[normalize-space(.)=%q][@aria-current="page"]`, entry), chromedp.BySearch),
			)
			var h1 string
			run(t, ctx, "read the title", chromedp.Text("h1", &h1, chromedp.ByQuery))
			if strings.Contains(h1, "introuvable") || strings.Contains(h1, "non autorisée") {
				t.Errorf("%s: %q opens a refusal: %s", role, entry, h1)
			}
		}
		// What bureau and lecture may see but not change: the settings are shown without a
		// button to save them.
		run(t, ctx, string(role)+" settings", chromedp.Navigate(e.api.URL+"/ui/parametres"), chromedp.WaitVisible("h1", chromedp.ByQuery))
		var forms int
		run(t, ctx, "count settings buttons", chromedp.Evaluate(`document.querySelectorAll('main form[action^="/ui/parametres"] button[type=submit]').length`, &forms))
		if (forms > 0) != (domain.AccessOf(role, domain.PermSettings) == domain.Allowed) {
			t.Errorf("%s: %d buttons saving settings", role, forms)
		}

		run(t, ctx, "sign out as "+string(role),
			chromedp.Click(`//button[.="Se déconnecter de Livret"]`, chromedp.BySearch))
		waitURL(t, ctx, "/ui/login")
		run(t, ctx, "no page after signing out", chromedp.Navigate(e.api.URL+"/ui/offices"))
		waitURL(t, ctx, "/ui/login")
	}
}
