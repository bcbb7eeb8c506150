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

// 全年工作: mailing every department (notify without “只生成不发送”) asks first; the dry run does not
document.addEventListener("htmx:confirm", function (e) {
  var form = e.detail && e.detail.elt;
  if (!form || !form.getAttribute || form.getAttribute("hx-post") !== "/jobs/notify") return;
  var dry = form.querySelector('input[name="dry_run"]');
  if (dry && dry.checked) return;
  e.preventDefault();
  if (window.confirm("将给各部门发送回执和催报邮件，发出后不能撤回。确定发送吗？")) e.detail.issueRequest(true);
});
