// ferkit web page: upload a photo to /v1/predict, or stream webcam frames over the /v1/live WebSocket.
// Plain ES module, no build step. Boxes are positioned elements over the image, in percent of its size.

const MAX_CAMERA_FPS = 10; // frames sent per second at most; one frame is in flight at a time
const CAMERA_WIDTH = 640; // frames are scaled to this width before sending
const JPEG_QUALITY = 0.8;
const PALETTE = ["#dc2828", "#3c8c28", "#a03ca0", "#f0c800", "#2878c8", "#ff8c00", "#8c8c8c"];

const $ = (id) => document.getElementById(id);

// ---- API key (only when the server asks for one) ----

let apiKey = sessionStorage.getItem("ferkit-api-key") || "";

function askForApiKey(onKey) {
  const form = $("api-key-form");
  form.hidden = false;
  form.onsubmit = (event) => {
    event.preventDefault();
    apiKey = $("api-key-input").value;
    sessionStorage.setItem("ferkit-api-key", apiKey);
    form.hidden = true;
    onKey();
  };
}

// ---- messages, boxes and bars ----

function showMessage(element, text, isError = false) {
  element.textContent = text;
  element.classList.toggle("error", isError);
  element.hidden = !text;
}

/** What to tell the user for an error answer of the API ({code, message}). */
function describeError(status, body) {
  const detail = body && body.message ? ` (${body.message})` : "";
  if (status === 413) return `This file is too large${detail}.`;
  if (status === 415 || status === 422) return `This file is not an image that can be read${detail}.`;
  if (status === 503) return "The server is busy. Please try again in a moment.";
  if (status === 504) return "The server took too long to answer. Please try again.";
  return `Something went wrong (${status})${detail}.`;
}

function classColor(face, name) {
  const index = Object.keys(face.probabilities).indexOf(name);
  return PALETTE[index % PALETTE.length];
}

function drawBoxes(overlay, result) {
  const { width, height } = result;
  overlay.replaceChildren(
    ...result.faces.map((face, i) => {
      const [x, y, w, h] = face.box;
      const box = document.createElement("div");
      box.className = "face-box";
      box.dataset.label = face.label;
      box.style.cssText =
        `left:${(100 * x) / width}%;top:${(100 * y) / height}%;` +
        `width:${(100 * w) / width}%;height:${(100 * h) / height}%;` +
        `--box-color:${classColor(face, face.label)}`;
      const label = document.createElement("span");
      label.className = "face-label";
      label.textContent = `${i + 1}: ${face.label} ${Math.round(100 * face.confidence)}%`;
      box.append(label);
      return box;
    }),
  );
}

function drawCharts(container, result) {
  container.replaceChildren(
    ...result.faces.map((face, i) => {
      const figure = document.createElement("figure");
      figure.className = "face-chart";
      const caption = document.createElement("figcaption");
      caption.textContent = `Face ${i + 1}: ${face.label} (${Math.round(100 * face.confidence)}%)`;
      figure.append(caption);
      for (const [name, p] of Object.entries(face.probabilities)) {
        const row = document.createElement("div");
        row.className = "bar-row";
        row.innerHTML = '<span class="bar-name"></span><span class="bar"><span class="bar-fill"></span></span>' +
          '<span class="bar-value"></span>';
        row.querySelector(".bar-name").textContent = name;
        const fill = row.querySelector(".bar-fill");
        fill.style.width = `${100 * p}%`;
        fill.style.setProperty("--bar-color", classColor(face, name));
        row.querySelector(".bar-value").textContent = `${Math.round(100 * p)}%`;
        figure.append(row);
      }
      return figure;
    }),
  );
}

// ---- photo upload ----

function clearPhoto() {
  $("photo-view").hidden = true;
  $("photo-overlay").replaceChildren();
  $("photo-faces").replaceChildren();
}

async function uploadPhoto(file) {
  const message = $("photo-message");
  clearPhoto();
  showMessage(message, `Analysing ${file.name}…`);
  const form = new FormData();
  form.append("image", file);
  let response;
  try {
    response = await fetch("v1/predict", { method: "POST", body: form, headers: apiKey ? { "X-API-Key": apiKey } : {} });
  } catch {
    showMessage(message, "Cannot reach the server. Is it still running?", true);
    return;
  }
  const body = await response.json().catch(() => null);
  if (response.status === 401 || response.status === 403) {
    showMessage(message, "This server needs a valid API key.", true);
    askForApiKey(() => uploadPhoto(file));
    return;
  }
  if (!response.ok) {
    showMessage(message, describeError(response.status, body), true);
    return;
  }
  const image = $("photo-image");
  URL.revokeObjectURL(image.src);
  image.src = URL.createObjectURL(file);
  $("photo-view").hidden = false;
  drawBoxes($("photo-overlay"), body);
  drawCharts($("photo-faces"), body);
  const n = body.faces.length;
  showMessage(message, n === 0 ? "No face found in this photo." : `${n} face${n > 1 ? "s" : ""} found.`, n === 0);
}

function setUpUpload() {
  const zone = $("drop-zone");
  const input = $("file-input");
  input.addEventListener("change", () => input.files.length && uploadPhoto(input.files[0]));
  zone.addEventListener("dragover", (event) => {
    event.preventDefault();
    zone.classList.add("dragging");
  });
  zone.addEventListener("dragleave", () => zone.classList.remove("dragging"));
  zone.addEventListener("drop", (event) => {
    event.preventDefault();
    zone.classList.remove("dragging");
    if (event.dataTransfer.files.length) uploadPhoto(event.dataTransfer.files[0]);
  });
}

// ---- webcam ----

class LiveCamera {
  constructor() {
    this.video = $("camera-video");
    this.canvas = document.createElement("canvas");
    this.message = $("camera-message");
    this.stream = null;
    this.socket = null;
    this.inFlight = false;
    this.lastSent = 0;
    this.resultTimes = [];
    this.timer = null;
  }

  async start() {
    showMessage(this.message, "Starting the camera…");
    try {
      this.stream = await navigator.mediaDevices.getUserMedia({ video: { width: CAMERA_WIDTH }, audio: false });
    } catch (error) {
      const refused = error.name === "NotAllowedError" || error.name === "SecurityError";
      const text = refused
        ? "Camera permission was refused. Allow camera access for this page in the browser settings, then try again."
        : error.name === "NotFoundError"
          ? "No camera was found."
          : `The camera could not be started (${error.name}).`;
      showMessage(this.message, text, true);
      return;
    }
    this.video.srcObject = this.stream;
    await this.video.play();
    $("camera-view").hidden = false;
    $("camera-start").disabled = true;
    $("camera-stop").disabled = false;
    this.openSocket();
  }

  openSocket() {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const query = apiKey ? `?api_key=${encodeURIComponent(apiKey)}` : "";
    this.socket = new WebSocket(`${scheme}://${location.host}${location.pathname.replace(/[^/]*$/, "")}v1/live${query}`);
    this.socket.onopen = () => {
      showMessage(this.message, "");
      this.schedule();
    };
    this.socket.onmessage = (event) => this.onResult(JSON.parse(event.data));
    this.socket.onclose = (event) => {
      if (!this.stream) return; // closed by stop()
      const text = event.code === 1008
        ? "The server refused the live connection (an API key may be needed)."
        : "The connection to the server was lost.";
      this.stop();
      showMessage(this.message, text, true);
      if (event.code === 1008) askForApiKey(() => this.start());
    };
  }

  /** Send the next frame once the previous answer is in and the frame-rate bound allows it. */
  schedule() {
    clearTimeout(this.timer);
    const wait = Math.max(0, this.lastSent + 1000 / MAX_CAMERA_FPS - performance.now());
    this.timer = setTimeout(() => this.sendFrame(), wait);
  }

  sendFrame() {
    if (!this.socket || this.socket.readyState !== WebSocket.OPEN || this.inFlight || !this.video.videoWidth) {
      if (this.stream) this.schedule();
      return;
    }
    const scale = Math.min(1, CAMERA_WIDTH / this.video.videoWidth);
    this.canvas.width = Math.round(this.video.videoWidth * scale);
    this.canvas.height = Math.round(this.video.videoHeight * scale);
    this.canvas.getContext("2d").drawImage(this.video, 0, 0, this.canvas.width, this.canvas.height);
    this.inFlight = true;
    this.lastSent = performance.now();
    this.canvas.toBlob((blob) => {
      if (blob && this.socket) {
        this.socket.send(blob);
      } else {
        this.inFlight = false;
        if (this.stream) this.schedule();
      }
    }, "image/jpeg", JPEG_QUALITY);
  }

  onResult(message) {
    this.inFlight = false;
    if (message.type === "error") {
      const text = message.code === "busy" ? "The server is busy; some frames are skipped." : message.message;
      showMessage(this.message, text, true);
    } else {
      showMessage(this.message, message.faces.length ? "" : "No face in view.");
      drawBoxes($("camera-overlay"), message);
      drawCharts($("camera-faces"), message);
      this.countResult();
    }
    this.schedule();
  }

  countResult() {
    const now = performance.now();
    this.resultTimes.push(now);
    while (this.resultTimes[0] < now - 2000) this.resultTimes.shift();
    const seconds = Math.max((now - this.resultTimes[0]) / 1000, 1e-3);
    const fps = this.resultTimes.length > 1 ? (this.resultTimes.length - 1) / seconds : 0;
    $("camera-fps").textContent = `${fps.toFixed(1)} frames/s`;
  }

  stop() {
    clearTimeout(this.timer);
    const socket = this.socket;
    this.socket = null;
    if (this.stream) this.stream.getTracks().forEach((track) => track.stop());
    this.stream = null;
    if (socket) socket.close();
    this.inFlight = false;
    this.resultTimes = [];
    this.video.srcObject = null;
    $("camera-view").hidden = true;
    $("camera-overlay").replaceChildren();
    $("camera-faces").replaceChildren();
    $("camera-fps").textContent = "– frames/s";
    $("camera-start").disabled = false;
    $("camera-stop").disabled = true;
    showMessage(this.message, "");
  }
}

setUpUpload();
const camera = new LiveCamera();
$("camera-start").addEventListener("click", () => camera.start());
$("camera-stop").addEventListener("click", () => camera.stop());
