// A sign-in link's landing page goes on by itself, so opening the link signs a person in; a
// mail scanner that fetches the link without running scripts does not use it up.
// A page that comes back with an error summary puts the focus on it, so it is read out first.
document.addEventListener("DOMContentLoaded", function () {
  var form = document.querySelector("form[data-autosubmit]");
  if (form) {
    form.submit();
    return;
  }
  var summary = document.querySelector(".error-summary");
  if (summary) {
    summary.focus();
  }
});

// A form htmx swapped in place that comes back with an error summary puts the focus on it too.
document.addEventListener("htmx:afterSettle", function () {
  var summary = document.querySelector(".error-summary");
  if (summary) {
    summary.focus();
  }
});
