package whatsapp

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/wagent/wagent/channel"
)

// BusinessProfile is the WhatsApp business profile of a business phone
// number, as users see it.
type BusinessProfile struct {
	About             string   `json:"about,omitempty"`
	Address           string   `json:"address,omitempty"`
	Description       string   `json:"description,omitempty"`
	Email             string   `json:"email,omitempty"`
	ProfilePictureURL string   `json:"profile_picture_url,omitempty"`
	Websites          []string `json:"websites,omitempty"`
	// Vertical is the business's industry, such as RETAIL or RESTAURANT.
	Vertical string `json:"vertical,omitempty"`
}

// ProfileUpdate changes a business profile: empty fields stay as they
// are. Lengths, in characters: about 1-139, address 256, description 512,
// email 128, at most 2 websites of 256 (http or https).
type ProfileUpdate struct {
	About       string   `json:"about,omitempty"`
	Address     string   `json:"address,omitempty"`
	Description string   `json:"description,omitempty"`
	Email       string   `json:"email,omitempty"`
	Websites    []string `json:"websites,omitempty"`
	Vertical    string   `json:"vertical,omitempty"`
	// ProfilePictureHandle sets the profile photo: a handle from
	// [Client.UploadFile].
	ProfilePictureHandle string `json:"profile_picture_handle,omitempty"`
}

// Business profile limits.
const (
	maxAbout       = 139
	maxAddress     = 256
	maxDescription = 512
	maxEmail       = 128
	maxWebsites    = 2
	maxWebsite     = 256
)

// profileFields are the fields a business profile is read with.
const profileFields = "about,address,description,email,profile_picture_url,websites,vertical"

// BusinessProfile returns the business profile of the account's phone
// number phone (GET /{phone-number-id}/whatsapp_business_profile).
func (c *Client) BusinessProfile(ctx context.Context, acct Account, phone channel.TenantID) (BusinessProfile, error) {
	if !validTenant(phone) {
		return BusinessProfile{}, invalidf("the phone number must be a phone_number_id")
	}
	var out struct {
		Data []BusinessProfile `json:"data"`
	}
	if err := c.manage(ctx, acct, manageCall{op: "profile", method: http.MethodGet, path: "/" + string(phone) + "/whatsapp_business_profile",
		query: url.Values{"fields": {profileFields}}, out: &out}); err != nil {
		return BusinessProfile{}, err
	}
	if len(out.Data) == 0 {
		return BusinessProfile{}, nil
	}
	return out.Data[0], nil
}

// UpdateBusinessProfile changes the business profile of the account's
// phone number phone (POST /{phone-number-id}/whatsapp_business_profile),
// after checking the limits of [ProfileUpdate].
func (c *Client) UpdateBusinessProfile(ctx context.Context, acct Account, phone channel.TenantID, u ProfileUpdate) error {
	if !validTenant(phone) {
		return invalidf("the phone number must be a phone_number_id")
	}
	for _, f := range []struct {
		name string
		v    string
		max  int
	}{{"about", u.About, maxAbout}, {"address", u.Address, maxAddress}, {"description", u.Description, maxDescription}, {"email", u.Email, maxEmail}} {
		if n := utf8.RuneCountInString(f.v); n > f.max {
			return invalidf("business profile %s is %d characters, more than %d", f.name, n, f.max)
		}
	}
	if u.Email != "" && !strings.Contains(u.Email, "@") {
		return invalidf("business profile email is not an email address")
	}
	if len(u.Websites) > maxWebsites {
		return invalidf("business profile has %d websites, at most %d", len(u.Websites), maxWebsites)
	}
	for i, w := range u.Websites {
		if utf8.RuneCountInString(w) > maxWebsite || !strings.HasPrefix(w, "https://") && !strings.HasPrefix(w, "http://") {
			return invalidf("business profile website %d must be an http or https URL of at most %d characters", i, maxWebsite)
		}
	}
	if u.About == "" && u.Address == "" && u.Description == "" && u.Email == "" && len(u.Websites) == 0 && u.Vertical == "" && u.ProfilePictureHandle == "" {
		return invalidf("business profile update changes nothing")
	}
	body := struct {
		MessagingProduct string `json:"messaging_product"`
		ProfileUpdate
	}{"whatsapp", u}
	var ok successAnswer
	return c.manage(ctx, acct, manageCall{op: "profile.update", method: http.MethodPost, path: "/" + string(phone) + "/whatsapp_business_profile", body: body, out: &ok})
}

// uploadTypes are the file types the resumable upload API takes.
var uploadTypes = []string{"application/pdf", "image/jpeg", "image/jpg", "image/png", "video/mp4"}

// UploadFile uploads data of mimeType (application/pdf, image/jpeg,
// image/png or video/mp4) with the Resumable Upload API of the Meta app
// appID and returns its handle, for a profile photo
// (ProfileUpdate.ProfilePictureHandle) or the sample of a media template
// header: POST /{app-id}/uploads?file_length=...&file_type=... opens an
// upload session, and POST /{session-id} with "Authorization: OAuth" and
// file_offset 0 sends the bytes.
func (c *Client) UploadFile(ctx context.Context, acct Account, appID string, data []byte, mimeType string) (string, error) {
	if !validID(appID) {
		return "", invalidf("the app id must be a Meta app id")
	}
	if len(data) == 0 {
		return "", invalidf("upload: the file is empty")
	}
	if !slices.Contains(uploadTypes, mimeType) {
		return "", invalidf("upload: file type must be one of %s", strings.Join(uploadTypes, ", "))
	}
	if !validTenant(channel.TenantID(acct.ID)) {
		return "", invalidf("the account id must be a WhatsApp Business Account id")
	}
	var session struct {
		ID string `json:"id"`
	}
	if err := c.manage(ctx, acct, manageCall{op: "upload.session", method: http.MethodPost, path: "/" + appID + "/uploads",
		query: url.Values{"file_length": {strconv.Itoa(len(data))}, "file_type": {mimeType}}, out: &session}); err != nil {
		return "", err
	}
	if !strings.HasPrefix(session.ID, "upload:") || strings.ContainsAny(session.ID, "/# ") {
		return "", &channel.Error{Channel: channel.WhatsApp, Kind: channel.ErrUnavailable, HTTPStatus: http.StatusOK, Err: errUploadAnswer}
	}
	var out struct {
		H string `json:"h"`
	}
	_, err := c.call(ctx, call{
		op: "upload.file", tenant: channel.TenantID(acct.ID), method: http.MethodPost, path: "/" + session.ID,
		body: data, attempts: c.maxAttempts, idempotent: true, creds: acct.Credentials, auth: "OAuth",
		header: http.Header{"File_offset": {"0"}},
	}, &out)
	if err != nil {
		return "", err
	}
	if out.H == "" {
		return "", &channel.Error{Channel: channel.WhatsApp, Kind: channel.ErrUnavailable, HTTPStatus: http.StatusOK, Err: errUploadAnswer}
	}
	return out.H, nil
}

// SetProfilePhoto uploads a JPEG or PNG photo with [Client.UploadFile] and
// makes it the profile photo of the account's phone number phone.
func (c *Client) SetProfilePhoto(ctx context.Context, acct Account, appID string, phone channel.TenantID, photo []byte, mimeType string) error {
	if mimeType != "image/jpeg" && mimeType != "image/png" && mimeType != "image/jpg" {
		return invalidf("a profile photo is image/jpeg or image/png")
	}
	if !validTenant(phone) {
		return invalidf("the phone number must be a phone_number_id")
	}
	h, err := c.UploadFile(ctx, acct, appID, photo, mimeType)
	if err != nil {
		return err
	}
	return c.UpdateBusinessProfile(ctx, acct, phone, ProfileUpdate{ProfilePictureHandle: h})
}
