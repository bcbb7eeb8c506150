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

// a request that never reached the 工作台 (its window closed, the network gone): say so where the answer would go
document.addEventListener("htmx:sendError", function (e) {
  var target = (e.detail && e.detail.target) || document.querySelector("main");
  if (!target || target.id === "board") return;  // the board's own refresh: keep what is shown
  var p = document.createElement("p");
  p.className = "msg error";
  p.setAttribute("role", "alert");
  p.textContent = "无法连接工作台：请确认运行工作台的窗口没有关闭，然后重试";
  target.replaceChildren(p);
});
