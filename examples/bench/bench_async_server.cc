#include "examples/bench/bench_async_server.h"

namespace grpc_bypass::bench {
namespace {

using Service = AsyncBenchServer::Service;

// A call in progress: its address is the tag of its one pending operation. Proceed(ok) runs
// on the queue's thread when that operation completes; the call deletes itself when done.
class Call {
 public:
  virtual ~Call() = default;
  virtual void Proceed(bool ok) = 0;
};

// Unary: wait for a call (and ask for the next one when it comes), reply with the echo, free.
class UnaryCall final : public Call {
 public:
  UnaryCall(Service* s, grpc::ServerCompletionQueue* cq) : service_(s), cq_(cq), responder_(&ctx_) {
    service_->RequestUnary(&ctx_, &in_, &responder_, cq_, cq_, this);
  }
  void Proceed(bool ok) override {
    if (!ok || replied_) {  // shutting down before a call came, or the reply has gone
      if (ok) CountUnaryOk();
      delete this;
      return;
    }
    new UnaryCall(service_, cq_);
    out_.set_data(in_.data());
    replied_ = true;
    responder_.Finish(out_, grpc::Status::OK, this);
  }

 private:
  Service* const service_;
  grpc::ServerCompletionQueue* const cq_;
  grpc::ServerContext ctx_;
  ::bench::Payload in_, out_;
  grpc::ServerAsyncResponseWriter<::bench::Payload> responder_;
  bool replied_ = false;
};

// StreamPingPong: read, write it back, read the next; on the client's half-close, finish.
class PingPongCall final : public Call {
 public:
  PingPongCall(Service* s, grpc::ServerCompletionQueue* cq) : service_(s), cq_(cq), stream_(&ctx_) {
    service_->RequestStreamPingPong(&ctx_, &stream_, cq_, cq_, this);
  }
  void Proceed(bool ok) override {
    switch (state_) {
      case State::kWaiting:
        if (!ok) break;
        new PingPongCall(service_, cq_);
        Read();
        return;
      case State::kReading:
        if (!ok) {
          Finish(grpc::Status::OK);
        } else {
          state_ = State::kWriting;
          stream_.Write(m_, this);
        }
        return;
      case State::kWriting:
        if (ok) {
          Read();
        } else {
          Finish(grpc::Status(grpc::StatusCode::CANCELLED, "write failed"));
        }
        return;
      case State::kFinishing:
        break;
    }
    delete this;
  }

 private:
  enum class State { kWaiting, kReading, kWriting, kFinishing };
  void Read() {
    state_ = State::kReading;
    stream_.Read(&m_, this);
  }
  void Finish(const grpc::Status& st) {
    state_ = State::kFinishing;
    stream_.Finish(st, this);
  }

  Service* const service_;
  grpc::ServerCompletionQueue* const cq_;
  grpc::ServerContext ctx_;
  grpc::ServerAsyncReaderWriter<::bench::Payload, ::bench::Payload> stream_;
  ::bench::Payload m_;
  State state_ = State::kWaiting;
};

}  // namespace

void AsyncBenchServer::Register(grpc::ServerBuilder& builder) {
  builder.RegisterService(&service_);
  for (int i = 0; i < threads_; ++i) cqs_.push_back(builder.AddCompletionQueue());
}

void AsyncBenchServer::Start() {
  for (auto& cq : cqs_) {
    grpc::ServerCompletionQueue* q = cq.get();
    new UnaryCall(&service_, q);
    new PingPongCall(&service_, q);
    workers_.emplace_back([this, q] { Drain(q); });
  }
}

void AsyncBenchServer::Drain(grpc::ServerCompletionQueue* cq) {
  void* tag = nullptr;
  bool ok = false;
  while (cq->Next(&tag, &ok)) static_cast<Call*>(tag)->Proceed(ok);
}

void AsyncBenchServer::Stop() {
  if (stopped_) return;
  stopped_ = true;
  for (auto& cq : cqs_) cq->Shutdown();  // each Drain ends once its queue is empty
  for (auto& t : workers_) t.join();
}

}  // namespace grpc_bypass::bench
