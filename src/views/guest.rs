use leptos::prelude::*;

/// The guest view, as in FusionAuth's tutorial.
#[component]
pub fn GuestView() -> impl IntoView {
    view! {
        <section class="card guest" aria-labelledby="guest-title">
            <h1 id="guest-title">"Hello Guest"</h1>
            <p>"Please Login to see your profile"</p>
            <LoginButton return_to="/" />
        </section>
    }
}

/// A plain GET form, so login works before hydration and without JavaScript; the router
/// does not intercept it, so the browser really leaves for the provider.
#[component]
pub fn LoginButton(#[prop(into)] return_to: String) -> impl IntoView {
    view! {
        <form method="get" action="/login" class="inline-form">
            <input type="hidden" name="return_to" value=return_to />
            <button type="submit" class="button primary">"Login"</button>
        </form>
    }
}
