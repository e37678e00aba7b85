/* 获取短信验证码: with JavaScript, ask for the code without leaving the page and
 * count down 60 s; without JavaScript the button submits the form and the server
 * re-renders it with what was typed. No inline script (strict CSP). */
(function () {
  "use strict";

  function statusBox(form) {
    return form.parentNode.querySelector("[data-sms-status]");
  }

  function show(form, kind, text) {
    var box = statusBox(form);
    if (!box) { return; }
    box.className = "sms-status alert alert-" + kind + " py-2";
    box.textContent = text;
  }

  function countdown(button, seconds) {
    var label = button.getAttribute("data-label") || button.textContent;
    button.setAttribute("data-label", label);
    button.disabled = true;
    var left = seconds;
    button.textContent = left + " 秒后重新获取";
    var timer = window.setInterval(function () {
      left -= 1;
      if (left <= 0) {
        window.clearInterval(timer);
        button.disabled = false;
        button.textContent = label;
      } else {
        button.textContent = left + " 秒后重新获取";
      }
    }, 1000);
  }

  function onClick(event) {
    var button = event.currentTarget;
    var form = button.form;
    if (!form || !window.fetch || !window.FormData) { return; } /* fall back to the form post */
    event.preventDefault();
    var data = new FormData(form);
    data.set("purpose", button.getAttribute("data-sms-purpose"));
    data.delete("action");
    var token = form.querySelector("input[name=csrfmiddlewaretoken]");
    button.disabled = true;
    fetch(button.getAttribute("data-sms-url"), {
      method: "POST",
      body: data,
      credentials: "same-origin",
      headers: { "X-CSRFToken": token ? token.value : "", "X-Requested-With": "fetch" }
    }).then(function (response) {
      return response.json().then(function (body) { return { status: response.status, body: body }; });
    }).then(function (result) {
      var body = result.body || {};
      show(form, result.status === 200 ? "success" : "danger", body.message || "请求失败，请稍后重试。");
      if (body.retry_after) {
        countdown(button, Math.min(body.retry_after, 3600));
      } else {
        button.disabled = false;
      }
    }).catch(function () {
      show(form, "danger", "网络异常，请检查网络后重试。");
      button.disabled = false;
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var buttons = document.querySelectorAll("[data-sms-url]");
    for (var i = 0; i < buttons.length; i += 1) {
      buttons[i].addEventListener("click", onClick);
    }
  });
}());
