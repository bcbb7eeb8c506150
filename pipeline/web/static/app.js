// 工作台: files dropped on the drop zone, or chosen in the picker, are uploaded at once (through htmx).
document.addEventListener("DOMContentLoaded", function () {
  var form = document.getElementById("upload-form");
  var zone = document.getElementById("dropzone");
  var input = document.getElementById("files");
  if (!form || !zone || !input) return;
  function send() {
    if (!input.files.length) return;
    if (window.htmx) { htmx.trigger(form, "submit"); } else { form.submit(); }
  }
  input.addEventListener("change", send);
  ["dragenter", "dragover"].forEach(function (t) {
    zone.addEventListener(t, function (e) { e.preventDefault(); zone.classList.add("over"); });
  });
  ["dragleave", "drop"].forEach(function (t) {
    zone.addEventListener(t, function (e) { e.preventDefault(); zone.classList.remove("over"); });
  });
  zone.addEventListener("drop", function (e) {
    if (!e.dataTransfer || !e.dataTransfer.files.length) return;
    input.files = e.dataTransfer.files;
    send();
  });
  form.addEventListener("htmx:afterRequest", function () { input.value = ""; });
});
