package webui

import (
	"net/http"
	"net/url"
	"strconv"

	"github.com/gin-gonic/gin"

	"livret/domain"
	"livret/school"
)

// "Webhooks" (/ui/webhooks): the school's subscriptions (docs/api.md, "Webhooks"), where
// Livret sends its events to the management software, with their recent deliveries, a test
// event and the deletion; the same use cases as the API's routes. Subscriptions are created
// by the management software (PUT /v1/webhooks/{ref}): the secret is its to keep.

// WebhooksPage is the page's address.
const WebhooksPage = "/ui/webhooks"

// webhookDeliveriesOnPage is how many recent deliveries a subscription shows.
const webhookDeliveriesOnPage = 10

// webhooksPage is the subscriptions as the template shows them.
type webhooksPage struct {
	Hooks []webhookView
	// Confirm is the ref whose deletion awaits its confirmation.
	Confirm string
}

type webhookView struct {
	Ref, URL   string
	Events     []string // French labels
	Deliveries []deliveryView
	Confirm    bool
}

type deliveryView struct {
	When, Type, Status, StatusClass string
	Attempts                        int
	// Last is the last attempt's HTTP status, or why it had none; "—" before any attempt.
	Last string
}

var deliveryClasses = map[domain.DeliveryStatus]string{
	domain.DeliveryPending: "wait", domain.DeliveryDelivered: "ok",
	domain.DeliveryFailed: "err", domain.DeliveryCancelled: "",
}

// webhookNotices are the page's own ?msg= notices (a fixed list: nothing of the query is
// echoed).
var webhookNotices = map[string]notice{
	"test-envoye":      {Kind: "success", Text: "L'événement de test est envoyé : sa livraison apparaît ci-dessous dans quelques instants (rechargez la page)."},
	"abonnement-suppr": {Kind: "success", Text: "L'abonnement est supprimé : plus aucun événement ne lui sera envoyé."},
}

func lastAttempt(d school.WebhookDelivery) string {
	if len(d.Attempts) == 0 {
		return "—"
	}
	a := d.Attempts[len(d.Attempts)-1]
	switch {
	case a.StatusCode != nil:
		return strconv.Itoa(*a.StatusCode)
	case a.Error != nil:
		return *a.Error
	}
	return "—"
}

func (s *Pages) webhooksData(c *gin.Context, confirm string) (pageData, error) {
	ctx := c.Request.Context()
	hooks, err := s.School.Webhooks(ctx, schoolOf(c))
	if err != nil {
		return pageData{}, err
	}
	page := &webhooksPage{Confirm: confirm}
	for _, h := range hooks {
		v := webhookView{Ref: h.Ref, URL: h.URL, Confirm: h.Ref == confirm}
		for _, e := range h.Events {
			v.Events = append(v.Events, domain.EventType(e).Label())
		}
		ds, err := s.School.WebhookDeliveries(ctx, schoolOf(c), h.Ref, webhookDeliveriesOnPage)
		if err != nil {
			return pageData{}, err
		}
		for _, d := range ds {
			created := d.CreatedAt
			v.Deliveries = append(v.Deliveries, deliveryView{When: frenchMoment(&created), Type: domain.EventType(d.Type).Label(),
				Status: domain.DeliveryStatus(d.Status).Label(), StatusClass: deliveryClasses[domain.DeliveryStatus(d.Status)],
				Attempts: d.AttemptCount, Last: lastAttempt(d)})
		}
		page.Hooks = append(page.Hooks, v)
	}
	return pageData{Title: "Webhooks", Nav: "parametres", Notice: webhookNotices[c.Query("msg")], Webhooks: page}, nil
}

// uiWebhooks is GET /ui/webhooks.
func (s *Pages) uiWebhooks(c *gin.Context) {
	d, err := s.webhooksData(c, "")
	if err != nil {
		s.uiProblem(c, err)
		return
	}
	s.renderPage(c, http.StatusOK, "webhooks", d)
}

// uiTestWebhook is "Envoyer un test".
func (s *Pages) uiTestWebhook(c *gin.Context) {
	if _, err := s.School.TestWebhook(c.Request.Context(), schoolOf(c), c.Param("ref")); err != nil {
		s.uiProblem(c, err)
		return
	}
	c.Redirect(http.StatusSeeOther, WebhooksPage+"?msg=test-envoye#abonnement-"+url.PathEscape(c.Param("ref")))
}

// uiDeleteWebhook is "Supprimer": the page again, asking to confirm; with the confirmation,
// the subscription is deleted.
func (s *Pages) uiDeleteWebhook(c *gin.Context) {
	ref := c.Param("ref")
	if c.PostForm("confirm") != "1" {
		// The confirmation is asked of those who may delete only (the one policy table).
		if err := school.Authorize(c.Request.Context(), domain.PermSettings); err != nil {
			s.uiProblem(c, err)
			return
		}
		d, err := s.webhooksData(c, ref)
		if err != nil {
			s.uiProblem(c, err)
			return
		}
		found := false
		for _, h := range d.Webhooks.Hooks {
			found = found || h.Ref == ref
		}
		if !found {
			s.uiProblem(c, school.ErrWebhookNotFound)
			return
		}
		s.renderPage(c, http.StatusOK, "webhooks", d)
		return
	}
	if err := s.School.DeleteWebhook(c.Request.Context(), schoolOf(c), ref); err != nil {
		s.uiProblem(c, err)
		return
	}
	c.Redirect(http.StatusSeeOther, WebhooksPage+"?msg=abonnement-suppr")
}
