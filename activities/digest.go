package activities

import (
	"context"
	"fmt"
	"time"

	"go.temporal.io/sdk/activity"

	"livret/db/dbq"
	"livret/domain"
	"livret/mailer"
	"livret/school"
)

// ListDigestSchools returns the next page of the schools the day's digest run visits: those
// with alert addresses and events no digest has taken, or with the day's digest stored but
// not sent. On a worker without an SMTP server it says so, and lists nothing.
func (a *Activities) ListDigestSchools(ctx context.Context, in ListDigestSchoolsInput) (ListDigestSchoolsResult, error) {
	if a.Mailer == nil {
		return ListDigestSchoolsResult{Unconfigured: true}, nil
	}
	day, err := digestDay(in.Day)
	if err != nil {
		return ListDigestSchoolsResult{}, err
	}
	ids, err := dbq.New(a.Pool).DigestListSchoolsDue(ctx, dbq.DigestListSchoolsDueParams{AfterID: in.AfterSchoolID, Day: day,
		Lim: int32(max(1, in.Limit))})
	if err != nil {
		return ListDigestSchoolsResult{}, err
	}
	return ListDigestSchoolsResult{SchoolIDs: ids}, nil
}

// SendDigest sends a school's digest of a day once: it claims the day's digest (composing
// and storing it with its events, or reading the one stored), sends it unless it was sent,
// then records that it was. The window that remains: a worker lost after the SMTP server
// accepted the message and before sent_at is written sends it again on the retry, with the
// same Message-ID (docs/architecture.md, "Events, webhooks and digests").
func (a *Activities) SendDigest(ctx context.Context, in SendDigestInput) (SendDigestResult, error) {
	if a.Mailer == nil {
		return SendDigestResult{Outcome: DigestNotConfigured}, nil
	}
	d, ok, err := school.ClaimDigest(ctx, a.Pool, school.DigestRequest{SchoolID: in.SchoolID, Day: in.Day, PublicURL: a.PublicURL})
	if err != nil {
		return SendDigestResult{}, err
	}
	if !ok {
		return SendDigestResult{Outcome: DigestNothingNew}, nil
	}
	res := SendDigestResult{DigestID: d.ID, Recipients: len(d.Recipients)}
	if d.SentAt != nil {
		res.Outcome = DigestAlreadySent
		return res, nil
	}
	err = a.Mailer.Send(ctx, mailer.Message{To: d.Recipients, Subject: d.Subject, Text: d.TextBody, HTML: d.HtmlBody, MessageID: d.MessageID})
	if err != nil {
		return SendDigestResult{}, smtpFailure(err)
	}
	// Past this point the message is at the SMTP server: a failure to record it is retried
	// by Temporal, and the retry sends it again unless this write went through.
	if _, err := dbq.New(a.Pool).DigestMarkSent(ctx, d.ID); err != nil {
		return SendDigestResult{}, err
	}
	activity.GetLogger(ctx).Info("digest sent", "school_id", in.SchoolID, "day", in.Day, "digest_id", d.ID, "recipients", len(d.Recipients))
	res.Outcome = DigestSent
	return res, nil
}

// digestDay is the Paris day of a digest (YYYY-MM-DD) as the date column wants it: the
// calendar day, whatever the zone.
func digestDay(day string) (time.Time, error) {
	d, err := domain.ParseBusinessDate(day)
	if err != nil {
		return time.Time{}, fmt.Errorf("digest day %q: %w", day, err)
	}
	return time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, time.UTC), nil
}
