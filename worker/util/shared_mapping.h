#pragma once
// One object of type T in a shared anonymous mapping, made by the master
// before it forks so that every worker inherits the same pages: the pool's
// metrics, the admission gate's view of each listen queue. T must hold no
// pointers and only lock-free (address-free) atomics.
#include <sys/mman.h>

#include <cerrno>
#include <new>
#include <system_error>
#include <type_traits>
#include <utility>

namespace authd {

template <typename T>
class SharedMapping {
  static_assert(std::is_default_constructible_v<T>);

 public:
  // Maps and value-initialises a T (MAP_SHARED | MAP_ANONYMOUS). Throws
  // std::system_error when the kernel refuses.
  SharedMapping() {
    void* p = ::mmap(nullptr, sizeof(T), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) throw std::system_error(errno, std::generic_category(), "mmap (shared)");
    // Anonymous pages arrive zeroed; value-initialising makes every atomic a
    // live object holding 0.
    object_ = new (p) T{};
  }
  ~SharedMapping() {
    if (object_ != nullptr) {
      object_->~T();
      ::munmap(object_, sizeof(T));
    }
  }
  SharedMapping(SharedMapping&& other) noexcept : object_(std::exchange(other.object_, nullptr)) {}
  SharedMapping& operator=(SharedMapping&&) = delete;
  SharedMapping(const SharedMapping&) = delete;
  SharedMapping& operator=(const SharedMapping&) = delete;

  T& get() noexcept { return *object_; }
  const T& get() const noexcept { return *object_; }

 private:
  T* object_ = nullptr;
};

}  // namespace authd
