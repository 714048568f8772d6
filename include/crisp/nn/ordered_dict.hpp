// crisp::nn::OrderedDict: a name -> value map that remembers insertion order, as libtorch's
// torch::OrderedDict. Modules return their parameters, buffers and children in one.
#pragma once

#include <cstddef>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "crisp/tensor/error.hpp"

namespace crisp::nn {

// Iterating yields std::pair<std::string, V>, so `for (auto& [name, value] : dict)` works.
template <class V>
class OrderedDict {
 public:
  using Item = std::pair<std::string, V>;
  using iterator = typename std::vector<Item>::iterator;
  using const_iterator = typename std::vector<Item>::const_iterator;

  OrderedDict() = default;
  OrderedDict(std::initializer_list<Item> items) {
    for (const auto& it : items) insert(it.first, it.second);
  }

  // Adds `key`; a key that is already present is an error (registration never overwrites).
  V& insert(std::string key, V value) {
    CRISP_CHECK(!contains(key), ValueError, "OrderedDict::insert", "expected a new key, got \"", key,
                "\" which is already present");
    index_.emplace(key, items_.size());
    items_.emplace_back(std::move(key), std::move(value));
    return items_.back().second;
  }
  // Replaces the value of an existing key in place (its position is kept), or inserts it.
  V& insert_or_assign(std::string key, V value) {
    if (V* v = find(key)) return *v = std::move(value);
    return insert(std::move(key), std::move(value));
  }

  bool contains(const std::string& key) const { return index_.count(key) != 0; }
  V* find(const std::string& key) {
    auto it = index_.find(key);
    return it == index_.end() ? nullptr : &items_[it->second].second;
  }
  const V* find(const std::string& key) const {
    auto it = index_.find(key);
    return it == index_.end() ? nullptr : &items_[it->second].second;
  }
  V& operator[](const std::string& key) { return at(key); }
  const V& operator[](const std::string& key) const { return at(key); }
  V& at(const std::string& key) {
    V* v = find(key);
    CRISP_CHECK(v != nullptr, ValueError, "OrderedDict", "expected one of the keys ", key_list(), ", got \"", key,
                "\"");
    return *v;
  }
  const V& at(const std::string& key) const { return const_cast<OrderedDict*>(this)->at(key); }
  // The i-th item in insertion order.
  Item& operator[](size_t i) { return items_.at(i); }
  const Item& operator[](size_t i) const { return items_.at(i); }

  size_t size() const { return items_.size(); }
  bool is_empty() const { return items_.empty(); }
  bool empty() const { return items_.empty(); }
  iterator begin() { return items_.begin(); }
  iterator end() { return items_.end(); }
  const_iterator begin() const { return items_.begin(); }
  const_iterator end() const { return items_.end(); }
  const std::vector<Item>& items() const { return items_; }

  std::vector<std::string> keys() const {
    std::vector<std::string> k;
    k.reserve(items_.size());
    for (const auto& it : items_) k.push_back(it.first);
    return k;
  }
  std::vector<V> values() const {
    std::vector<V> v;
    v.reserve(items_.size());
    for (const auto& it : items_) v.push_back(it.second);
    return v;
  }
  void clear() {
    items_.clear();
    index_.clear();
  }

 private:
  std::string key_list() const {
    std::string s = "[";
    for (size_t i = 0; i < items_.size(); ++i) s += (i ? ", \"" : "\"") + items_[i].first + "\"";
    return s + "]";
  }

  std::vector<Item> items_;
  std::unordered_map<std::string, size_t> index_;
};

}  // namespace crisp::nn
