// A sign-in link's landing page goes on by itself, so opening the link signs a person in; a
// mail scanner that fetches the link without running scripts does not use it up.
document.addEventListener("DOMContentLoaded", function () {
  var form = document.querySelector("form[data-autosubmit]");
  if (form) {
    form.submit();
  }
});
