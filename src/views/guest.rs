use leptos::prelude::*;

/// The guest view, as in FusionAuth's tutorial: an island without props (it hydrates, but
/// nothing in it needs the browser). Login is a plain GET form, so it works before hydration
/// and without JavaScript, and the browser really leaves for the provider.
#[island]
pub fn GuestView() -> impl IntoView {
    view! {
        <section class="card guest" aria-labelledby="guest-title">
            <h1 id="guest-title">"Hello Guest"</h1>
            <p>"Please Login to see your profile"</p>
            <form method="get" action="/login" class="inline-form">
                <input type="hidden" name="return_to" value="/" />
                <button type="submit" class="button primary">"Login"</button>
            </form>
        </section>
    }
}
